"""Pictures drawn for replies. Each module imports its drawing library at import time, so import them only
where a picture is drawn, never on the start-up path."""
