"""A stand-in Slack Web API served on 127.0.0.1, for tests.

The bot under test builds ``WebClient(base_url=fake.base_url)`` (or
``AsyncWebClient``) and talks to it over real HTTP, so what is exercised is
slack_sdk's actual wire format, retry handlers, error mapping and timeouts.

    with FakeSlack() as slack:
        slack.add_channel("C0SUPPORT", "support")
        client = WebClient(base_url=slack.base_url, token="xoxb-test")
        client.chat_postMessage(channel="C0SUPPORT", text="hi")
        assert slack.last("chat.postMessage").args["text"] == "hi"

Behaviour follows https://docs.slack.dev/reference/methods/ where it matters
to the bot: auth errors, channel membership/archival, ts generation, message
storage for history/replies/update, views with ids/hashes/trigger ids, and
Block Kit limits (see blockkit_limits).  Faults are injected with ``fail()``
or a seeded ``failure_rate``.

What lives where (FakeSlack is assembled below from the core and one mixin per API family):

- ``records``: Call, Fault, Channel, User, DEFAULT_SCOPES, the _ApiError handlers raise, value helpers.
- ``core``: FakeSlackCore: shared state, call recording (calls/last/wait_for), the dispatcher
  (faults, auth, Block Kit checks, then the handler), response_url and upload_url endpoints.
  It inherits from ``server`` (HTTP server and handler, body parsing, start/stop/base_url),
  ``faults`` (fail(), set_failure_rate()) and ``state`` (add_channel/add_user/seed_message,
  messages()/view(), and the helpers handlers share: ts/ids, channel resolution, message storage).
- API families, mixins with that family's handlers: ``auth_and_apps`` (api.test, auth.test,
  oauth.v2.access, apps.connections.open), ``chat`` (chat.*), ``conversations``
  (conversations.*), ``files`` (files.*), ``reactions`` (reactions.*), ``users`` (users.*,
  usergroups.*), ``views`` (views.*). The method-name -> handler table is FakeSlackCore._handlers.
"""

from __future__ import annotations

from .auth_and_apps import AuthAndAppsAPI
from .chat import ChatAPI
from .conversations import ConversationsAPI
from .core import FakeSlackCore
from .files import FilesAPI
from .reactions import ReactionsAPI
from .records import DEFAULT_SCOPES, Call, Channel, Fault, User
from .users import UsersAPI
from .views import ViewsAPI

__all__ = ["FakeSlack", "Call", "Fault", "Channel", "User", "DEFAULT_SCOPES"]


class FakeSlack(AuthAndAppsAPI, ChatAPI, ConversationsAPI, FilesAPI, ReactionsAPI, UsersAPI, ViewsAPI, FakeSlackCore):
    """A Slack Web API double on 127.0.0.1:<free port>.

    Args:
        strict: answer Block Kit violations with Slack's error (else only record them).
        public_posting: the bot token has ``chat:write.public`` (may post to public
            channels it is not a member of).
        bot_token / app_token: if given, only that exact token is accepted; else any
            well-formed ``xoxb-``/``xoxp-`` (Web API) or ``xapp-`` (apps.connections.open).
        failure_rate / seed / failure_methods: random faults (see set_failure_rate()).
        strict_users: unknown users get ``user_not_found`` (else a synthesized UTC user).
        enforce_trigger_ids: a trigger_id used twice gets ``exchanged_trigger_id``.
        keep_alive: answer without ``Connection: close`` and serve the next request on the same
            connection (a fault's ``headers={"Connection": "close"}`` still closes it);
            ``connections`` counts the connections accepted.
    """


try:  # a ready-made fixture: `from tests.support.fake_slack import fake_slack`
    import pytest

    @pytest.fixture
    def fake_slack():
        with FakeSlack() as fake:
            yield fake

except ImportError:  # pragma: no cover
    pass
