// A CometD server nobody here wrote (npm "cometd-nodejs-server", the CometD project's own), for the
// tests that prove the suite's CometD clients work against any standard Bayeux server.
//
//   node third_party_bayeux_server.mjs [--require-sub-paths]
//
// Listens on 127.0.0.1, a free port, and prints one line first: "LISTENING http://127.0.0.1:<port>/cometd".
// Every POST except /control/* goes to the CometD server with its stock options (30 s connect hold,
// BAYEUX_BROWSER cookie, long-polling only; the server maps the endpoint and every path below it).
// --require-sub-paths answers 404 at the endpoint itself, so only the sub-path URLs the CometD clients
// post to (/cometd/handshake, /cometd/connect...) reach the server: a server that demands them.
// The control API, JSON in and out, exists only so the tests can make server-side things happen:
//
//   POST /control/publish {"channel": "/x", "data": {...}, "waitForSubscriberMs": 5000}
//        publishes data on channel from the server side; first waits (up to waitForSubscriberMs) until
//        the channel has a subscriber, so a test can publish right after a client (re)subscribes.
//        Answers {"published": true|false, "subscribers": n}.
//   POST /control/forget
//        ends every server session (ServerSession.disconnect, the server's own API), so the next request
//        of each client carries an unknown clientId and is answered 402::session_unknown.
//        Answers {"forgotten": n}.
//
// Ends on SIGTERM / SIGINT or when stdin closes (the parent died).

import { createRequire } from "node:module";
import http from "node:http";

const require = createRequire(import.meta.url);
const { createCometDServer } = require("cometd-nodejs-server");

const ENDPOINT = "/cometd";
const REQUIRE_SUB_PATHS = process.argv.includes("--require-sub-paths");
const cometd = createCometDServer();
const sessions = new Set();
cometd.addListener("sessionAdded", (session) => sessions.add(session));
cometd.addListener("sessionRemoved", (session) => sessions.delete(session));

function readJson(request) {
    return new Promise((resolve, reject) => {
        let text = "";
        request.setEncoding("utf8");
        request.on("data", (chunk) => { text += chunk; });
        request.on("end", () => {
            try {
                resolve(text ? JSON.parse(text) : {});
            } catch (failure) {
                reject(failure);
            }
        });
        request.on("error", reject);
    });
}

function answer(response, status, body) {
    response.writeHead(status, { "Content-Type": "application/json" });
    response.end(JSON.stringify(body));
}

function subscriberCount(channelName) {
    const channel = cometd.getServerChannel(channelName);
    return channel ? channel.subscribers.length : 0;
}

// Resolves once channelName has a subscriber, or after waitMs: awaited on the server's own event.
function subscribed(channelName, waitMs) {
    if (subscriberCount(channelName) > 0 || !(waitMs > 0)) {
        return Promise.resolve();
    }
    return new Promise((resolve) => {
        const listener = (channel) => {
            if (channel.name === channelName) {
                done();
            }
        };
        const timer = setTimeout(() => done(), waitMs);
        function done() {
            clearTimeout(timer);
            cometd.removeListener("subscribed", listener);
            resolve();
        }
        cometd.addListener("subscribed", listener);
    });
}

async function control(request, response, action) {
    const body = await readJson(request);
    if (action === "publish") {
        if (typeof body.channel !== "string" || !body.channel.startsWith("/")) {
            answer(response, 400, { error: "channel (a string starting with /) is required" });
            return;
        }
        await subscribed(body.channel, body.waitForSubscriberMs);
        const subscribers = subscriberCount(body.channel);
        const channel = cometd.createServerChannel(body.channel);
        channel.publish(null, body.data ?? {}, () => answer(response, 200, { published: true, subscribers }));
    } else if (action === "forget") {
        const forgotten = [...sessions];
        forgotten.forEach((session) => session.disconnect());
        answer(response, 200, { forgotten: forgotten.length });
    } else {
        answer(response, 404, { error: `no control action ${action}` });
    }
}

const server = http.createServer((request, response) => {
    const path = new URL(request.url, "http://localhost").pathname;
    if (path.startsWith("/control/")) {
        if (request.method !== "POST") {
            answer(response, 405, { error: "POST only" });
            return;
        }
        control(request, response, path.slice("/control/".length)).catch((failure) => {
            answer(response, 400, { error: String(failure) });
        });
        return;
    }
    if (REQUIRE_SUB_PATHS && path.replace(/\/+$/, "") === ENDPOINT) {
        response.writeHead(404, { "Content-Type": "text/plain" });
        response.end("Not Found: post to a sub-path of the endpoint");
        return;
    }
    cometd.handle(request, response);
});

function stop() {
    cometd.close();
    server.close();
    server.closeAllConnections();
    process.exit(0);
}

process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();

server.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    console.log(`LISTENING http://127.0.0.1:${port}${ENDPOINT}`);
});
