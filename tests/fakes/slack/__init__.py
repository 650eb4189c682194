"""A mock Slack: the Web API, response_urls and Socket Mode (server.py), what members send
(driver.py), and pytest fixtures (fixtures.py)."""
