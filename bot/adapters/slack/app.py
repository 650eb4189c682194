"""SlackAdapter: slack-bolt's AsyncApp in Socket Mode or HTTP mode (one workspace, or OAuth for many).

Modes, chosen by the settings:
- Socket Mode: SLACK_APP_TOKEN + SLACK_BOT_TOKEN. One workspace, no public URL.
- HTTP, one workspace: SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN.
- HTTP with OAuth: SLACK_SIGNING_SECRET + SLACK_CLIENT_ID + SLACK_CLIENT_SECRET; installations and
  install states live in the bot's database (migration 0003).
Every Web API call goes to SLACK_API_URL, so a whole process can run against a mock Slack."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.slack import oauth, requests
from bot.adapters.slack.backlog import Busy
from bot.adapters.slack.direct import DirectListeners
from bot.adapters.slack.handlers import SkipRetries, SlackHandlers
from bot.adapters.slack.inbox import Inbox
from bot.adapters.slack.poster import SlackPoster, describe
from bot.config import ConfigError, Settings
from bot.core.service import StudyService
from bot.schedule.poster import PermanentPostError, RetryablePostError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
API_TIMEOUT = 15
SWEEP_SECONDS = 5.0
# On stop: finish acked work for DRAIN_SECONDS, then start nothing new and give what runs GRACE_SECONDS;
# within the runner's stop budget, with time left to write what is left back to the inbox.
DRAIN_SECONDS = 2.0
GRACE_SECONDS = 1.0
CLOSE_SECONDS = 2.0
NOT_INSTALLED = (
    "⚠️ studybot is not installed in this workspace any more. A workspace admin can install it again."
)


class _QuietBolt(logging.Filter):
    """bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins; that is intended."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOG = logging.getLogger("slack_bolt")
BOLT_LOG.addFilter(_QuietBolt())


class Mode(enum.StrEnum):
    SOCKET = "socket"
    HTTP = "http"  # one workspace, bot token
    OAUTH = "oauth"  # many workspaces, tokens from installations


def choose_mode(settings: Settings) -> Mode:
    """The mode the settings ask for, or ConfigError naming what is missing."""
    s = settings
    if s.slack_app_token:
        if not s.slack_app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information)"
            )
        if not s.slack_bot_token:
            raise ConfigError("Socket Mode needs SLACK_BOT_TOKEN (xoxb-...) as well as SLACK_APP_TOKEN")
        return Mode.SOCKET
    if not s.slack_signing_secret:
        raise ConfigError(
            "Slack needs SLACK_APP_TOKEN for Socket Mode or SLACK_SIGNING_SECRET for HTTP mode "
            "beside SLACK_BOT_TOKEN"
        )
    if bool(s.slack_client_id) != bool(s.slack_client_secret):
        raise ConfigError("OAuth needs both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    if s.slack_client_id:
        return Mode.OAUTH
    if not s.slack_bot_token:
        raise ConfigError(
            "HTTP mode needs SLACK_BOT_TOKEN for one workspace, "
            "or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install it in many"
        )
    return Mode.HTTP


class SlackAdapter:
    name = "slack"

    def __init__(
        self, settings: Settings, service: StudyService, engine: AsyncEngine, *, host: str = "0.0.0.0"
    ) -> None:
        self.settings = settings
        self.service = service
        self._engine = engine  # the process's one engine (bot/bootstrap.py): installations, states, inbox
        self.host = host
        self.mode: Mode | None = None
        self._problem: ConfigError | None = None
        try:
            self.mode = choose_mode(settings)
        except ConfigError as exc:
            self._problem = exc  # raised by start(), where the runner reports it
        self.poster = SlackPoster(self.client_for_team, settings.slack_command)
        self.app: Any = None
        self.port: int | None = None
        self.installation_store: Any = None
        self.handlers: SlackHandlers | None = None
        self._session: aiohttp.ClientSession | None = None
        self._client: Any = None
        self._runner: web.AppRunner | None = None
        self._socket: Any = None
        self.inbox: Inbox | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._refused = 0
        self._verifier = (
            SignatureVerifier(settings.slack_signing_secret) if settings.slack_signing_secret else None
        )

    # -- clients --------------------------------------------------------------------------------

    def _web_client(self, token: str | None) -> Any:
        return AsyncWebClient(
            token=token,
            base_url=self.settings.slack_api_url,
            session=self._session,
            timeout=API_TIMEOUT,
        )

    async def client_for_team(self, team_id: str) -> Any:
        """The Web API client for a workspace: the bot token, or in OAuth mode its installation's."""
        if self._client is None:
            raise RetryablePostError("the Slack adapter is not started yet")
        if self.mode is not Mode.OAUTH:
            return self._client
        try:
            installation = await self.installation_store.async_find_installation(
                enterprise_id=None, team_id=team_id
            )
        except Exception as exc:  # the database: try again later
            raise RetryablePostError(f"could not read the Slack installation: {exc!r}") from exc
        if installation is None or not installation.bot_token:
            raise PermanentPostError(
                f"studybot is not installed in Slack workspace {team_id}: install it again"
            )
        return self._web_client(installation.bot_token)

    # -- life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._problem is not None:
            raise self._problem
        self._session = aiohttp.ClientSession()
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        s = self.settings
        self._client = self._web_client(s.slack_bot_token or None)
        if self.mode is not Mode.OAUTH:
            await self._check(self._client.auth_test(), "SLACK_BOT_TOKEN")
        assert self._session is not None
        self.inbox = Inbox(self._engine, s.slack_inbox_lease_seconds)
        self.inbox.start()
        self.handlers = SlackHandlers(self.service, s, self._session, self.inbox, self.client_for_team)
        self.app = self._build_app()
        self.handlers.register(self.app)
        # After bolt's own middleware (signature, authorization): clicks, the command and the answer form
        # go straight to their listeners (bot/adapters/slack/direct.py).
        self.app.use(DirectListeners(self.handlers, self._on_error, BOLT_LOG))
        self.app.error(self._on_error)
        # Work a stop or a crash left in the inbox, then (every few seconds) whatever another instance
        # released or could not finish.
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        if self.mode is Mode.SOCKET:
            opened = await self._check(
                self._client.apps_connections_open(app_token=s.slack_app_token), "SLACK_APP_TOKEN"
            )
            self._socket = AsyncSocketModeHandler(self.app, s.slack_app_token, web_client=self._client)
            self._socket.client.wss_uri = opened["url"]  # already checked: connect without asking again
            await self._socket.connect_async()
            log.info("slack connected mode=socket")
            return
        await self._serve()
        log.info("slack listening mode=%s port=%s path=%s", self.mode, self.port, EVENTS_PATH)

    async def _check(self, call: Any, setting: str) -> Any:
        """A credentials call at start: a refusal is a ConfigError naming the setting."""
        try:
            return await call
        except SlackApiError as exc:
            code, status, _ = describe(exc)
            raise ConfigError(f"{setting} was refused by Slack: {code or f'HTTP {status}'}") from None
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            why = str(exc) or type(exc).__name__
            raise ConfigError(
                f"cannot reach Slack at {self.settings.slack_api_url} to check {setting}: {why}"
            ) from None

    def _build_app(self) -> Any:
        s = self.settings
        assert self.handlers is not None
        common: dict[str, Any] = {
            "name": "studybot",
            "logger": BOLT_LOG,
            "client": self._client,
            "before_authorize": SkipRetries(),
            # Listeners ack and hand the work to handlers.background, so the ack goes out when they
            # return; this skips bolt's 10 ms polling for acks, which under load delays them a lot.
            "process_before_response": True,
            "user_facing_authorize_error_message": NOT_INSTALLED,
        }
        if self.mode is Mode.SOCKET:
            return AsyncApp(signing_secret="", **common)
        if self.mode is Mode.HTTP:
            return AsyncApp(signing_secret=s.slack_signing_secret, **common)
        self.installation_store = oauth.installation_store(s.slack_client_id, self._engine)
        settings = AsyncOAuthSettings(
            client_id=s.slack_client_id,
            client_secret=s.slack_client_secret,
            scopes=list(oauth.BOT_SCOPES),
            user_scopes=[],
            install_path=INSTALL_PATH,
            redirect_uri_path=REDIRECT_PATH,
            authorization_url=oauth.authorize_url(s.slack_api_url),
            installation_store=self.installation_store,
            state_store=oauth.state_store(self._engine),
        )
        # bolt's default authorize calls auth.test on every request; caching it keeps acks fast.
        authorize = AsyncInstallationStoreAuthorize(
            logger=common["logger"],
            installation_store=self.installation_store,
            client_id=s.slack_client_id,
            client_secret=s.slack_client_secret,
            cache_enabled=True,
            client=self._client,
        )
        app = AsyncApp(
            signing_secret=s.slack_signing_secret,
            oauth_settings=settings,
            installation_store=self.installation_store,
            authorize=authorize,  # type: ignore[arg-type]  # bolt accepts AsyncAuthorize here
            **common,
        )
        app.enable_token_revocation_listeners()  # uninstalls delete the installation
        return app

    async def _serve(self) -> None:
        web_app = web.Application()
        web_app.router.add_post(EVENTS_PATH, self._on_post)
        if self.mode is Mode.OAUTH:
            web_app.router.add_get(INSTALL_PATH, self._on_install)
            web_app.router.add_get(REDIRECT_PATH, self._on_redirect)
        # In-flight requests are acks (milliseconds); 2 s is plenty and keeps SIGTERM within budget.
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.settings.slack_port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"SLACK_PORT {self.settings.slack_port} cannot be used: {exc.strerror}"
            ) from None
        server = site._server  # the bound port, for SLACK_PORT=0 in tests
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.settings.slack_port

    async def _on_post(self, request: web.Request) -> web.Response:
        assert self.handlers is not None and self._verifier is not None
        raw = await request.read()
        # The signature before anything else reads the body; bolt checks it again, which is cheap.
        if not requests.signed(self._verifier, raw, request.headers):
            log.warning("slack request unsigned or stale status=401 length=%d", len(raw))
            return web.Response(status=401, text="invalid signature")
        try:
            bolt_request = requests.bolt_request(raw, request.query_string, request.headers)
        except requests.Malformed as exc:
            log.warning("slack request refused status=400 reason=%r", str(exc))
            return web.Response(status=400, text=f"malformed request: {exc}")
        with self.handlers.background.acking():
            response = await self.app.async_dispatch(bolt_request)
            return await to_aiohttp_response(response)

    async def _on_error(self, error: Exception, logger: Any) -> BoltResponse | None:
        """A listener's failure. Busy: nothing was kept, so ask Slack to send it again later (HTTP 503; in
        Socket Mode nothing is acked and Slack retries). Anything else: bolt's 500, logged with its trace."""
        if isinstance(error, Busy):
            self._refused += 1
            if self._refused % 100 == 1:
                log.warning(
                    "slack busy: refused requests=%d (Slack retries them) reason=%s", self._refused, error
                )
            return BoltResponse(status=503, body="busy, try again", headers={"Retry-After": "1"})
        log.error("slack listener failed", exc_info=error)
        return None

    async def _sweep(self) -> None:
        assert self.inbox is not None and self.handlers is not None
        every = min(SWEEP_SECONDS, self.settings.slack_inbox_lease_seconds / 3)
        first = True
        while True:
            try:
                await self.inbox.renew()
                items = await self.inbox.claim(self.handlers.background.room)
                if items:
                    log.info(
                        "slack inbox recovered %d acked requests left by a stop or a crash%s",
                        len(items),
                        " (on start)" if first else "",
                    )
                    self.handlers.resume(items)
                first = False
            except Exception as exc:
                log.warning("slack inbox sweep failed error=%r", exc)
            await asyncio.sleep(every)

    async def _on_install(self, request: web.Request) -> web.Response:
        response = await self.app.oauth_flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _on_redirect(self, request: web.Request) -> web.Response:
        response = await self.app.oauth_flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _drain(self, handlers: SlackHandlers, inbox: Inbox) -> None:
        """Finish acked work for a while; hand what is left to the next start through the inbox."""
        backlog = handlers.background
        before = backlog.finished
        try:
            left = await backlog.stop(DRAIN_SECONDS, GRACE_SECONDS)
            finished = backlog.finished - before
            async with asyncio.timeout(CLOSE_SECONDS):
                await inbox.close()  # commits the rows of finished work as done
                await inbox.release([item.id for item in left])
        except (Exception, TimeoutError, asyncio.CancelledError) as exc:
            if backlog.count:
                log.warning(
                    "slack stopped: finished %d acked requests, left %d in the inbox still marked as ours "
                    "(%r): the next start takes them over after %ss",
                    backlog.finished - before,
                    backlog.count,
                    exc,
                    self.settings.slack_inbox_lease_seconds,
                )
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        if left:
            log.warning(
                "slack stopped: finished %d acked requests, left %d in the inbox (database) for the next "
                "start or another instance",
                finished,
                len(left),
            )
        elif finished:
            log.info("slack stopped: finished %d acked requests, left 0 in the inbox", finished)

    async def stop(self) -> None:
        """Stop taking requests, let acked work finish (briefly), then close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()
            self._socket = None
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self.handlers is not None and self.inbox is not None:
            await self._drain(self.handlers, self.inbox)
        if self._session is not None:
            await self._session.close()
            self._session = None
