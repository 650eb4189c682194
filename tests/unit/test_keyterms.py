"""Key terms: which bold phrases of a model answer count, and how a typed answer is matched against them."""

from __future__ import annotations

import pytest

from bot.core.cardtext import PARSE_LIMIT, plain
from bot.core.decks.keyterms import Coverage, key_terms, match_key_terms
from bot.core.decks.markdown import parse_deck_text

COVERED, PARTLY, MISSED = Coverage.COVERED, Coverage.PARTLY, Coverage.MISSED


def coverage(term: str, typed: str) -> Coverage:
    [result] = match_key_terms([term], typed)
    return result.coverage


# --- which phrases are key terms -----------------------------------------------------------------------


def test_key_terms_order_dedup_and_code() -> None:
    answer = (
        "Use **ReLU**, **LSTMs** and ** spaced ** and **relu** again.\n```\nx = a**2 + b**2\n```\n`c**d**e`"
    )
    assert key_terms(answer) == ("ReLU", "LSTMs")
    assert key_terms("no bold here") == ()
    assert key_terms("**  padded  **x") == ()
    assert key_terms("**Encoder**: compresses; **Decoder**: rebuilds") == ("Encoder", "Decoder")


def test_bold_in_code_or_unclosed_is_not_a_key_term() -> None:
    assert key_terms("Pass `**kwargs` to `f`, as in `f(**kwargs)`.") == ()
    assert key_terms("`2 ** 10` and 2 ** 10 are 1024") == ()
    assert key_terms("An unclosed **bold never ends") == ()
    assert key_terms("```python\ndef f(**kwargs): ...\n```\n\n    **indented code**") == ()
    assert key_terms("The **`torch.no_grad()` context** and __dropout__") == (
        "torch.no_grad() context",
        "dropout",
    )
    assert key_terms("**multi\nline term**") == ("multi line term",)


def test_card_with_code_keeps_only_prose_terms() -> None:
    deck = parse_deck_text(
        "# Python\n\n### **1. What does `**kwargs` collect?**\n\n**Theory:**\n"
        "Keyword arguments into a **dict**: `def f(**kwargs)`; `2 ** 10` is **exponentiation**.\n",
        "python.md",
        "python",
    )
    assert not isinstance(deck, list), deck
    [card] = deck.cards
    assert card.question == "What does `**kwargs` collect?"
    assert card.key_terms == ("dict", "exponentiation")


def test_pathological_markdown_is_cut_before_parsing() -> None:
    # markdown-it-py is linear but costly on some input; no card can be shown past PARSE_LIMIT anyway.
    for text in ("**" * 500_000, "`" * 1_000_000, "[" * 1_000_000, "*a" * 500_000):
        assert key_terms(text) == ()
        assert len(plain(text)) <= PARSE_LIMIT + 1


# --- matching ------------------------------------------------------------------------------------------

TABLE = [
    # Stems, and words in between.
    ("vanishing gradients", "the vanishing gradient problem", COVERED),
    ("vanishing gradient problem", "the problem of vanishing gradients", COVERED),
    ("hyperparameter tuning", "tuning the hyperparameters", COVERED),
    ("overfitting", "the model overfits", COVERED),
    ("Policy Gradient Methods", "policy gradient method", COVERED),
    # Long form (ACRONYM): either one.
    ("convolutional neural networks (CNNs)", "CNNs", COVERED),
    ("convolutional neural networks (CNNs)", "a CNN", COVERED),
    ("convolutional neural networks (CNNs)", "Convolutional Neural Network!", COVERED),
    ("recurrent neural networks (RNNs)", "an rnn", COVERED),
    ("PCA (Principal Component Analysis)", "I would apply pca first", COVERED),
    ("PCA (Principal Component Analysis)", "principal component analysis", COVERED),
    ("Deep Q-Networks (DQN)", "a deep q network", COVERED),
    # Punctuation, spacing, plurals of acronyms.
    ("F1-score", "f1 score", COVERED),
    ("ROC-AUC", "roc auc", COVERED),
    ("mini-batch discrimination", "Minibatch discriminations", COVERED),
    ("bias-variance trade-off", "the bias variance tradeoff", COVERED),
    ("GRUs", "a GRU", COVERED),
    ("ReLU", "relus", COVERED),
    ("K", "pick k by cross-validation", COVERED),
    # Small typos in long words.
    ("gradient descent", "gradeint descent", COVERED),
    ("discriminator", "the discrimnator", COVERED),
    ("regularization", "regularisation", COVERED),
    # Part of a longer term.
    ("vanishing gradient problem", "vanishing gradients", PARTLY),
    ("recurrent neural networks (RNNs)", "convolutional neural networks", PARTLY),
    ("convolutional neural networks (CNNs)", "neural networks", PARTLY),
    ("fully connected", "connected layers", PARTLY),
    # Unrelated words never match; short terms never match fuzzily.
    ("ReLU", "prelu", MISSED),
    ("F1-score", "the F2 score", MISSED),
    ("ReLU", "relay", MISSED),
    ("K", "KNN uses a kernel", MISSED),
    ("GAN", "gain", MISSED),
    ("PCA", "PCB layout", MISSED),
    ("LSTMs", "lists", MISSED),
    ("precision", "decision trees", MISSED),
    ("variance", "variable", MISSED),
    ("encoder", "decoder", MISSED),
    ("recall", "recurrent", MISSED),
    ("dropout", "drop", MISSED),
    ("Policy Gradient Methods", "gradient boosting", MISSED),
    ("PCA (Principal Component Analysis)", "principal components", PARTLY),
    ("vanishing gradient problem", "vanishing and exploding weights, with a gradient later on", PARTLY),
    ("accuracy", "", MISSED),
]


@pytest.mark.parametrize(("term", "typed", "expected"), TABLE)
def test_match_table(term: str, typed: str, expected: Coverage) -> None:
    assert coverage(term, typed) is expected


def test_words_far_apart_do_not_cover_a_term() -> None:
    typed = "networks are everywhere; it is hard to say which kind is neural or convolutional"
    assert coverage("convolutional neural networks", typed) is PARTLY


def test_results_keep_the_terms_order() -> None:
    terms = ["F1-score", "ROC-AUC", "ReLU", "vanishing gradient problem"]
    results = match_key_terms(terms, "f1 score and roc auc, vanishing gradients")
    assert [(r.term, r.coverage) for r in results] == [
        ("F1-score", COVERED),
        ("ROC-AUC", COVERED),
        ("ReLU", MISSED),
        ("vanishing gradient problem", PARTLY),
    ]
