"""A fake Discord: the REST API (server.py) and the gateway (gateway.py), a driver sending what members
send (driver.py), and pytest fixtures (fixtures.py)."""
