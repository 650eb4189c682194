"""The Slack adapter (slack-bolt): Block Kit rendering, handlers, the daily poster and the app runner."""
