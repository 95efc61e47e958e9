// Interop check: the official CometD JavaScript client (npm "cometd", run in node through
// "cometd-nodejs-client") against a GWS-style Bayeux endpoint.
//
//   node interop.mjs <notifications-url> <user> <password> <long-polling|websocket> <publish-url>
//
// Handshakes with only the requested transport registered (so a silent fallback cannot pass), subscribes
// to /v2/me/calls, asks the server to publish a message carrying a fresh marker by POSTing
// {"topic": "/v2/me/calls", "data": {"marker": ...}} to <publish-url> with the same Basic credentials,
// and waits for that message. Prints one line ("OK: ..." or "FAIL: ...") and exits 0 or 1.
//
// Credentials: long-polling requests carry an Authorization header (requestHeaders). The browser
// WebSocket API (which cometd-nodejs-client emulates with "ws") cannot set headers, so the websocket
// upgrade carries them as user-info in the URL, which "ws" turns into the same Basic header.

import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import { randomUUID } from "node:crypto";

const DEADLINE_MS = 15000;
const TOPIC = "/v2/me/calls";

const [url, user, password, transport, publishUrl] = process.argv.slice(2);
if (!publishUrl || !["long-polling", "websocket"].includes(transport)) {
    console.log("FAIL: usage: node interop.mjs <notifications-url> <user> <password> <long-polling|websocket> <publish-url>");
    process.exit(1);
}

adapt();
const cometd = new CometD();
let finished = false;

function finish(ok, reason) {
    if (finished) {
        return;
    }
    finished = true;
    console.log(`${ok ? "OK" : "FAIL"}: ${reason}`);
    const exit = () => process.exit(ok ? 0 : 1);
    // Leave politely when we can (the server ends the session); never wait long for it.
    setTimeout(exit, 1000).unref();
    if (cometd.isDisconnected()) {
        exit();
    } else {
        cometd.disconnect(exit);
    }
}

setTimeout(() => finish(false, `no message on ${TOPIC} over ${transport} within ${DEADLINE_MS} ms`), DEADLINE_MS).unref();

for (const type of cometd.getTransportTypes()) {
    if (type !== transport) {
        cometd.unregisterTransport(type);
    }
}

const authorization = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
const endpoint = new URL(url);
if (transport === "websocket") {
    endpoint.username = encodeURIComponent(user);
    endpoint.password = encodeURIComponent(password);
}
cometd.configure({
    url: endpoint.href,
    requestHeaders: { Authorization: authorization },
    logLevel: "warn",
});

const marker = randomUUID();

async function triggerPublish() {
    try {
        const response = await fetch(publishUrl, {
            method: "POST",
            headers: { Authorization: authorization, "Content-Type": "application/json" },
            body: JSON.stringify({ topic: TOPIC, data: { messageType: "CallStateChangeMessage", marker } }),
        });
        if (!response.ok) {
            finish(false, `publish endpoint answered HTTP ${response.status}`);
        }
    } catch (error) {
        finish(false, `publish endpoint unreachable: ${error.message}`);
    }
}

// Failure objects hold live sockets (not JSON-serialisable): keep what explains them.
function describe(message) {
    if (message.error) {
        return message.error;
    }
    const failure = message.failure || {};
    const parts = [failure.reason, failure.httpCode && `HTTP ${failure.httpCode}`, failure.exception && failure.exception.message];
    return parts.filter(Boolean).join(", ") || "no reason given";
}

// CometD logs and swallows exceptions thrown by callbacks: turn them into a failure instead.
function guarded(callback) {
    return (...args) => {
        try {
            callback(...args);
        } catch (error) {
            finish(false, `client-side error: ${error.message}`);
        }
    };
}

cometd.addListener("/meta/unsuccessful", (message) => {
    finish(false, `${message.channel} unsuccessful: ${describe(message)}`);
});

cometd.handshake(guarded((reply) => {
    if (!reply.successful) {
        finish(false, `handshake unsuccessful: ${describe(reply)}`);
        return;
    }
    const used = cometd.getTransport().type;
    if (used !== transport) {
        finish(false, `negotiated ${used}, expected ${transport}`);
        return;
    }
    cometd.subscribe(
        TOPIC,
        guarded((message) => {
            if (message.data && message.data.marker === marker) {
                finish(true, `received ${message.channel} (id ${message.id}) over ${cometd.getTransport().type}`);
            }
        }),
        guarded((subscribed) => {
            if (subscribed.successful) {
                triggerPublish();
            } else {
                finish(false, `subscribe to ${TOPIC} unsuccessful: ${describe(subscribed)}`);
            }
        }),
    );
}));
