// The quickstart's single-page app: logs a user in with the authorization code flow and PKCE
// (S256), then calls the API's three routes with the access token and shows each answer.
//
// No SDK and no build step: what @auth0/auth0-spa-js does, written out so it can be read.
// - Log in: a full-page redirect to /authorize (response_mode=query) with state, nonce and the
//   PKCE challenge; the verifier, state and nonce wait in sessionStorage for the way back.
// - Back on this page with ?code=…&state=…: the state must be ours, the code is exchanged at
//   /oauth/token (form-encoded, client_id and code_verifier, no secret: a public client).
// - Tokens live in memory only. After a reload the session is restored by silent
//   authentication: /authorize with prompt=none and response_mode=web_message in a hidden
//   iframe, whose answer arrives by postMessage from the tenant's origin. Without a session at
//   the tenant the answer is login_required and the page shows "Log in". A browser that blocks
//   third-party cookies keeps the tenant's session cookie out of the iframe, so it answers
//   login_required too; "Log in" then gets a code without asking for the password again.
// - The ID token's iss, aud (and azp), nonce, exp and iat are checked; its signature is not,
//   as in auth0-spa-js: it came straight from the tenant over the token endpoint, and the API
//   verifies the access token's signature itself.
// - Log out: /v2/logout with client_id and returnTo (this page's origin).
// Every value from the tenant or the API is shown with textContent, never parsed as HTML.
"use strict";

const config = JSON.parse(document.getElementById("config").textContent);
// The tenant's issuer identifier ends in "/", exactly as the ID token's iss.
const issuer = config.issuer;
const issuerOrigin = new URL(issuer).origin;
// The app's own origin is its callback URL and its logout return URL.
const redirectUri = window.location.origin;
// Where a full-page login keeps state, nonce and verifier until the tenant sends the user back.
const TRANSACTION_KEY = "demo-app.transaction";
// How long silent authentication may take before the page gives up and shows "Log in".
const SILENT_TIMEOUT_MS = 10000;
// Clock skew allowed on exp, in seconds (auth0-spa-js allows 60).
const LEEWAY_SECONDS = 60;

// The logged-in session, in memory only: { accessToken, claims }.
let session = null;

const element = (id) => document.getElementById(id);

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function s256(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest));
}

function decodeSegment(segment) {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function newTransaction() {
  return { state: randomString(), nonce: randomString(), verifier: randomString() };
}

async function authorizeUrl(transaction, extra) {
  const url = new URL("authorize", issuer);
  const params = {
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: redirectUri,
    scope: config.scope,
    audience: config.audience,
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await s256(transaction.verifier),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [name, value] of Object.entries(params)) {
    url.searchParams.set(name, value);
  }
  return url.toString();
}

// The ID token's claims, once iss, aud, azp, nonce, exp and iat are what this app expects.
function checkIdToken(idToken, nonce) {
  if (typeof idToken !== "string" || idToken.split(".").length !== 3) {
    throw new Error("the token answer has no ID token");
  }
  const [header, payload] = idToken.split(".");
  if (decodeSegment(header).alg !== "RS256") {
    throw new Error("the ID token is not signed with RS256");
  }
  const claims = decodeSegment(payload);
  if (claims.iss !== issuer) {
    throw new Error(`the ID token's issuer is ${claims.iss}, not ${issuer}`);
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(config.clientId)) {
    throw new Error("the ID token is not for this app (aud)");
  }
  if (audiences.length > 1 && claims.azp !== config.clientId) {
    throw new Error("the ID token is not for this app (azp)");
  }
  if (claims.nonce !== nonce) {
    throw new Error("the ID token's nonce is not this login's");
  }
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || claims.exp + LEEWAY_SECONDS < now) {
    throw new Error("the ID token has expired");
  }
  if (typeof claims.iat !== "number") {
    throw new Error("the ID token has no iat");
  }
  return claims;
}

// Exchanges `code` at the token endpoint and keeps the tokens in memory.
async function exchange(code, transaction) {
  const response = await fetch(new URL("oauth/token", issuer), {
    method: "POST",
    // A URLSearchParams body is sent as application/x-www-form-urlencoded.
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.clientId,
      code,
      redirect_uri: redirectUri,
      code_verifier: transaction.verifier,
    }),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(`token endpoint: ${response.status} ${answer.error || ""} ${answer.error_description || ""}`);
  }
  const claims = checkIdToken(answer.id_token, transaction.nonce);
  session = { accessToken: answer.access_token, claims };
}

// Back from the login page: the answer must carry the state this tab saved before leaving.
async function completeRedirect(params) {
  // The code is single-use: off the address bar and the history before anything else.
  window.history.replaceState(null, "", window.location.pathname);
  const saved = sessionStorage.getItem(TRANSACTION_KEY);
  sessionStorage.removeItem(TRANSACTION_KEY);
  if (saved === null) {
    throw new Error("an authorization answer arrived, but no login was started in this tab");
  }
  const transaction = JSON.parse(saved);
  if (params.get("state") !== transaction.state) {
    throw new Error("the answer's state is not this login's");
  }
  if (params.has("error")) {
    throw new Error(`${params.get("error")}: ${params.get("error_description") || ""}`);
  }
  await exchange(params.get("code"), transaction);
}

// The tenant's answer to /authorize with response_mode=web_message, in a hidden iframe.
function webMessageAnswer(url, state) {
  return new Promise((resolve, reject) => {
    const frame = document.createElement("iframe");
    frame.hidden = true;
    const finish = (settle, value) => {
      window.removeEventListener("message", onMessage);
      clearTimeout(timer);
      frame.remove();
      settle(value);
    };
    const onMessage = (event) => {
      const data = event.data;
      if (event.origin !== issuerOrigin || !data || data.type !== "authorization_response") {
        return;
      }
      if (!data.response || data.response.state !== state) {
        return;
      }
      finish(resolve, data.response);
    };
    const timer = setTimeout(
      () => finish(reject, new Error("the tenant did not answer silent authentication in time")),
      SILENT_TIMEOUT_MS,
    );
    window.addEventListener("message", onMessage);
    frame.src = url;
    document.body.appendChild(frame);
  });
}

// Restores a session the tenant still has for this browser, without showing anything.
async function silentAuthentication() {
  const transaction = newTransaction();
  const url = await authorizeUrl(transaction, { prompt: "none", response_mode: "web_message" });
  const answer = await webMessageAnswer(url, transaction.state);
  if (answer.error) {
    // login_required (and the like): no session at the tenant, the user logs in.
    return;
  }
  await exchange(answer.code, transaction);
}

async function logIn() {
  const transaction = newTransaction();
  sessionStorage.setItem(TRANSACTION_KEY, JSON.stringify(transaction));
  window.location.assign(await authorizeUrl(transaction, { response_mode: "query" }));
}

function logOut() {
  session = null;
  const url = new URL("v2/logout", issuer);
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("returnTo", redirectUri);
  window.location.assign(url.toString());
}

async function callRoute(button) {
  const result = element(button.dataset.result);
  result.textContent = "…";
  const headers = session ? { Authorization: `Bearer ${session.accessToken}` } : {};
  try {
    const response = await fetch(config.apiUrl + button.dataset.route, { headers });
    const body = await response.text();
    result.textContent = `${response.status} ${response.statusText}\n${body}`;
  } catch (error) {
    // fetch hides why (CORS, connection refused): the browser's console has the details.
    result.textContent = `network error: ${error.message}`;
  }
}

function show(state, message) {
  document.body.dataset.auth = state;
  element("status").textContent = message;
  const loggedIn = state === "logged-in";
  element("login").hidden = loggedIn;
  element("logout").hidden = !loggedIn;
  element("profile").hidden = !loggedIn;
  element("user-name").textContent = loggedIn ? session.claims.name || "" : "";
  element("user-email").textContent = loggedIn ? session.claims.email || "" : "";
}

function showSession() {
  if (session) {
    const who = session.claims.email || session.claims.name || session.claims.sub;
    show("logged-in", `Logged in as ${who}`);
  } else {
    show("logged-out", "Logged out");
  }
}

async function start() {
  element("issuer").textContent = issuer;
  element("api-url").textContent = config.apiUrl;
  element("login").addEventListener("click", () => {
    logIn().catch((error) => show("error", `Error: ${error.message}`));
  });
  element("logout").addEventListener("click", logOut);
  for (const button of document.querySelectorAll("button[data-route]")) {
    button.addEventListener("click", () => callRoute(button));
  }
  const params = new URLSearchParams(window.location.search);
  try {
    if (params.has("code") || params.has("error")) {
      await completeRedirect(params);
    } else {
      await silentAuthentication();
    }
    showSession();
  } catch (error) {
    session = null;
    show("error", `Error: ${error.message}`);
  }
}

start();
