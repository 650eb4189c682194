"""Our listeners called straight from bolt's middleware chain, after bolt's own middleware.

bolt checks the signature, authorizes and drops retries as always (its built-in middleware and ours run
first); then, for the requests that are nearly all of the traffic (button clicks, the slash command, the
answer form), this calls SlackHandlers' listener with bolt's `ack` and the request's client, and answers
with what `ack` set. bolt's own route, listener matching with per-call argument injection, builds every
argument any listener could take (say, respond, the payload in nine shapes...) twice per request: 45% of
its dispatch, profiled under a burst of clicks. Anything else goes on to bolt's listeners."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.adapters.slack.handlers import SlackHandlers
from bot.adapters.slack.render import ANSWER_CALLBACK

ErrorHandler = Callable[[Exception, Any], Awaitable[BoltResponse | None]]


class DirectListeners(AsyncMiddleware):
    def __init__(self, handlers: SlackHandlers, on_error: ErrorHandler, logger: logging.Logger) -> None:
        self.handlers = handlers
        self.on_error = on_error
        self.logger = logger

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        kind = body.get("type")
        context = req.context
        listener: Callable[[Any, dict[str, Any], Any], Awaitable[None]]
        if kind == "block_actions":
            listener = self.handlers.on_action
        elif body.get("command") == self.handlers.command:
            listener = self.handlers.on_command
        elif kind == "view_submission" and (body.get("view") or {}).get("callback_id") == ANSWER_CALLBACK:
            listener = self.handlers.on_answer
        else:
            return await next()
        try:
            await listener(context.ack, body, context.client)
        except Exception as exc:  # as bolt's listener runner does: the app's error handler answers
            answer = await self.on_error(exc, self.logger)
            return answer or BoltResponse(status=500)
        return context.ack.response or BoltResponse(status=200, body="")
