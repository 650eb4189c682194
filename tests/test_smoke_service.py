from tests.conftest import member


async def test_quiz_reveal_grade_roundtrip(service):
    alice = member("alice")
    q = await service.quiz(alice)
    reveal_id = q.actions[0].id
    assert reveal_id.startswith("reveal:")
    r = await service.act(alice, reveal_id)
    good = next(a for a in r.actions if a.id.endswith(":good"))
    g = await service.act(alice, good.id)
    assert g.title.startswith("Good")
