"""Another user can neither open, watch nor stop someone else's conversation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import send, wait_run, wait_streaming_text

ERROR_CHANNEL_DENIED = 40160

# Bob's own token (for his own conversation), pointed at another channel: attach; and, on a second
# connection (ably-js refuses locally on a channel that failed to attach), publish a cancel without attaching.
_INTRUDE = """async ([ownConversation, channelName, runId]) => {
  const connect = () => new Ably.Realtime({
    authUrl: `${location.origin}/ably/token`,
    authParams: { conversation: ownConversation },
    endpoint: location.hostname,
    port: Number(location.port),
    tls: false,
    transports: ['web_socket'],
    disableConnectivityCheck: true,
  });
  const outcome = {};
  const watcher = connect();
  try {
    await watcher.channels.get(channelName).attach();
    outcome.attach = 'attached';
  } catch (error) {
    outcome.attach = error.code;
  }
  watcher.close();
  const canceller = connect();
  try {
    await canceller.channels.get(channelName).publish({
      name: 'ai-cancel', extras: { ai: { transport: { 'event-id': crypto.randomUUID(), 'run-id': runId } } },
    });
    outcome.cancel = 'published';
  } catch (error) {
    outcome.cancel = error.code;
  }
  canceller.close();
  return outcome;
}"""


def test_another_user_gets_404_and_the_broker_refuses_their_attach(alice, make_user):
    alice_path = alice.new_conversation()
    alice_page = alice.open(alice_path)
    send(alice_page, "Private question")
    run = wait_streaming_text(alice_page, min_chars=10)

    bob = make_user()
    bob_page = bob.context.new_page()
    response = bob_page.goto(alice.server.url(alice_path))
    assert response.status == 404
    bob_own_path = bob.new_conversation()
    bob_page.goto(bob.server.url(bob_own_path))
    expect(bob_page.locator("#connection-status")).to_have_attribute("data-state", "connected")

    alice_conversation = alice_path.strip("/").split("/")[-1]
    token_status = bob_page.evaluate(
        "async (id) => (await fetch(`/ably/token?conversation=${id}`)).status", alice_conversation
    )
    assert token_status == 404

    bob_conversation = bob_own_path.strip("/").split("/")[-1]
    outcome = bob_page.evaluate(_INTRUDE, [bob_conversation, f"ai:{alice_conversation}", run["runId"]])
    assert outcome == {"attach": ERROR_CHANNEL_DENIED, "cancel": ERROR_CHANNEL_DENIED}

    done = wait_run(alice_page, f"r.runId === {run['runId']!r} && r.status !== 'active'")
    assert done["status"] == "complete"
