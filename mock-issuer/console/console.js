// The mock tenant's console: fills index.html from the admin surface under /_mock/.
//
// Everything that comes from data (tenant names, token claims, error messages) reaches the page
// as text nodes (createTextNode, textContent, value), never as HTML, so a claim holding
// <script> stays text. The admin token, when the issuer needs one, lives in sessionStorage.
'use strict';

(() => {
  const TOKEN_KEY = 'mock-issuer-admin-token';
  const $ = (id) => document.getElementById(id);

  // ---- DOM building: text only -------------------------------------------------------------

  /** An element with `props` set as DOM properties and `children` appended, strings as text. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (name === 'onclick') {
        node.addEventListener('click', value);
      } else if (name.startsWith('data-')) {
        node.setAttribute(name, value);
      } else {
        node[name] = value;
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Replaces `container`'s children with `nodes`. */
  function fill(container, ...nodes) {
    container.replaceChildren(...nodes.flat());
  }

  /** A table with a header row and one row per entry of `rows` (cells: strings or nodes). */
  function table(headings, rows) {
    return el('table', {},
      el('thead', {}, el('tr', {}, headings.map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c) => el('td', {}, c))))));
  }

  /** A list of values as comma-separated text, or a dash. */
  function list(values) {
    return values && values.length ? values.join(', ') : '—';
  }

  /** `scopes on API` entries as text: `https://api [read write]`. */
  function scopesOnApis(entries) {
    return list(entries.map((e) => `${e.audience} [${e.scopes.join(' ')}]`));
  }

  function show(node, visible) {
    node.hidden = !visible;
  }

  function say(message, good) {
    const status = $('status');
    status.textContent = message;
    status.className = good ? 'good' : 'bad';
  }

  // ---- The admin surface ------------------------------------------------------------------

  /** Raised after a 401, once the token form is showing. */
  class NeedsToken extends Error {}

  /** Calls `/_mock/<path>`; the answer's JSON, or an Error with the issuer's message. */
  async function admin(method, path, body) {
    const headers = {};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`/_mock/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
    if (response.status === 401) {
      askForToken(token !== null);
      throw new NeedsToken('the admin token is missing or wrong');
    }
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = null;
    }
    if (!response.ok) {
      throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
    }
    return data;
  }

  function askForToken(refused) {
    if (refused) sessionStorage.removeItem(TOKEN_KEY);
    $('admin-token-message').textContent = refused
      ? 'The issuer refused that admin token. Enter the one it printed in its banner.'
      : 'This issuer guards its admin surface with a token: the one in its banner, '
        + '--admin-token or MOCK_ADMIN_TOKEN. It is kept in this tab only (sessionStorage).';
    show($('admin-token'), true);
    show($('console'), false);
  }

  /** Runs `action`, reporting its failure in the status line. */
  async function attempt(action) {
    try {
      await action();
    } catch (error) {
      if (!(error instanceof NeedsToken)) say(`Error: ${error.message}`, false);
    }
  }

  // ---- The tenant -------------------------------------------------------------------------

  let tenant = null;

  async function load() {
    tenant = await admin('GET', 'tenant');
    show($('admin-token'), false);
    show($('console'), true);
    $('issuer').textContent = tenant.issuer;
    renderTenant();
    renderKeys(tenant.signing_keys);
    renderMintForm();
    await renderCurl();
    await loadFaults();
  }

  function renderTenant() {
    const yes = (flag) => (flag ? 'on' : 'off');
    fill($('apis'), table(
      ['Identifier', 'Scopes', 'Dialect', 'Lifetime', 'Signing', 'RBAC', 'Permissions in token',
        'Offline access'],
      tenant.apis.map((a) => [a.identifier, list(a.scopes), a.dialect, `${a.token_lifetime} s`,
        signing(a), yes(a.rbac), yes(a.permissions_in_token), yes(a.allow_offline_access)]),
    ));
    fill($('clients'), table(
      ['Client id', 'Type', 'Secret', 'Grant types', 'API grants', 'Callbacks', 'Web origins',
        'Logout URLs', 'Refresh rotation'],
      tenant.clients.map((c) => [c.id, c.app_type, c.secret === null ? 'public (PKCE)' : c.secret,
        list(c.grant_types), scopesOnApis(c.grants), list(c.callbacks), list(c.web_origins),
        list(c.allowed_logout_urls), yes(c.rotate_refresh_tokens)]),
    ));
    fill($('users'), table(
      ['Email (login)', 'Password', 'User id (sub)', 'Name', 'Roles', 'Permissions'],
      tenant.users.map((u) => [u.email, u.password, u.id, u.name, list(u.roles),
        scopesOnApis(u.permissions)]),
    ));
    fill($('roles'), table(
      ['Role', 'Permissions'],
      tenant.roles.map((r) => [r.name, scopesOnApis(r.permissions)]),
    ));
  }

  // ---- Keys ---------------------------------------------------------------------------------

  /** How an API signs: its algorithm, and an HS256 API's secret (shown as client secrets are). */
  function signing(api) {
    return api.signing_secret === null ? api.signing_alg
      : `${api.signing_alg} (secret ${api.signing_secret})`;
  }

  /** Every published algorithm's keys, RS256's first; each entry names its algorithm. */
  function renderKeys(signingKeys) {
    const several = signingKeys.length > 1;
    fill($('keys'), signingKeys.flatMap(({ alg, keys }) => [
      ['current', keys.current], ['next', keys.next], ['previous', keys.previous]]
      .filter(([, kid]) => kid)
      .map(([role, kid]) => el('li', { 'data-role': role, 'data-kid': kid, 'data-alg': alg },
        el('span', { className: 'role' }, several ? `${alg} ${role}` : role), ' ',
        el('code', {}, kid)))));
    $('revoke-previous').disabled = !signingKeys.some(({ keys }) => keys.previous);
  }

  async function changeKeys(button, path, done) {
    button.disabled = true;
    await attempt(async () => {
      await admin('POST', path);
      // The answer holds the RS256 kids only; the summary has every published algorithm's.
      tenant = await admin('GET', 'tenant');
      renderKeys(tenant.signing_keys);
      say(done, true);
    });
    button.disabled = false;
    renderKeys(tenant.signing_keys);
  }

  // ---- Minting ------------------------------------------------------------------------------

  function options(select, entries) {
    fill(select, entries.map(([value, label]) => el('option', { value }, label)));
  }

  function renderMintForm() {
    options($('mint-user'), [['', '(none: a client\'s own token)'],
      ...tenant.users.map((u) => [u.id, `${u.email} (${u.id})`])]);
    options($('mint-client'), tenant.clients.map((c) => [c.id, `${c.id} (${c.app_type})`]));
    options($('mint-audience'), tenant.apis.map((a) => [a.identifier, a.identifier]));
    mintHint();
  }

  function mintHint() {
    const api = tenant.apis.find((a) => a.identifier === $('mint-audience').value);
    $('mint-hint').textContent = api
      ? `This API's scopes: ${list(api.scopes)}; it signs with ${api.signing_alg}. `
        + 'A user\'s token also takes openid profile email.'
      : '';
  }

  /** The mint request the form describes, or an Error naming what is wrong with it. */
  function mintRequest() {
    const request = {
      client_id: $('mint-client').value,
      audience: $('mint-audience').value,
      scopes: $('mint-scopes').value.split(/\s+/).filter(Boolean),
    };
    if ($('mint-user').value) request.user = $('mint-user').value;
    if ($('mint-alg').value) request.signing_alg = $('mint-alg').value;
    const lifetime = $('mint-lifetime').value.trim();
    if (lifetime) request.expires_in = Number(lifetime);
    const claims = $('mint-claims').value.trim();
    if (claims) {
      try {
        request.claims = JSON.parse(claims);
      } catch (error) {
        throw new Error(`extra claims are not JSON: ${error.message}`);
      }
    }
    return request;
  }

  async function mint(event) {
    event.preventDefault();
    show($('mint-error'), false);
    try {
      const minted = await admin('POST', 'mint', mintRequest());
      $('minted-token').textContent = minted.token;
      show($('minted'), true);
      const by = minted.kid === null ? 'the API\'s signing secret' : minted.kid;
      say(`Minted a ${minted.alg} token signed by ${by}, valid ${minted.expires_in} s.`, true);
    } catch (error) {
      if (error instanceof NeedsToken) return;
      $('mint-error').textContent = error.message;
      show($('mint-error'), true);
    }
  }

  // ---- Decoding -----------------------------------------------------------------------------

  function verdict(verification) {
    if (verification.status === 'verified') {
      const role = verification.key ? ` (the ${verification.key} key)` : '';
      return [`verified by kid ${verification.kid}${role}`, 'good'];
    }
    if (verification.status === 'verified_with_secret') {
      return [`verified with the signing secret of ${verification.audience}`, 'good'];
    }
    return [`not verified: ${verification.reason}`, 'bad'];
  }

  /** The token's time claims as dates, for a person. */
  function times(claims) {
    return ['iat', 'nbf', 'exp', 'auth_time']
      .filter((name) => typeof claims[name] === 'number')
      .map((name) => `${name} ${new Date(claims[name] * 1000).toISOString()}`)
      .join(' · ');
  }

  /** What a `cnf` claim binds the token to (RFC 9449 §6.1, RFC 8705 §3.1), or null for a bearer
   * token. */
  function binding(cnf) {
    if (!cnf || typeof cnf !== 'object') return null;
    if (typeof cnf.jkt === 'string') {
      return `bound to key ${cnf.jkt}: send it as "Authorization: DPoP" with a proof by that key`;
    }
    if (typeof cnf['x5t#S256'] === 'string') return `bound to certificate ${cnf['x5t#S256']}`;
    return `bound: cnf ${JSON.stringify(cnf)}`;
  }

  /** The line under the times that shows the binding; made here on first use. */
  function bindingLine() {
    let line = $('decoded-binding');
    if (!line) {
      line = document.createElement('p');
      line.id = 'decoded-binding';
      $('decoded-times').after(line);
    }
    return line;
  }

  async function decode(event) {
    if (event) event.preventDefault();
    show($('decode-error'), false);
    const token = $('decode-input').value.trim();
    try {
      const inspection = await admin('POST', 'inspect', { token });
      const [text, mood] = verdict(inspection.verification);
      $('decoded-verification').textContent = text;
      $('decoded-verification').className = mood;
      $('decoded-expiry').textContent = inspection.expiry;
      $('decoded-expiry').className = inspection.seconds_left > 0 ? 'good' : 'bad';
      $('decoded-times').textContent = times(inspection.claims);
      const bound = binding(inspection.claims.cnf);
      bindingLine().textContent = bound || '';
      show(bindingLine(), bound !== null);
      $('decoded-header').textContent = JSON.stringify(inspection.header, null, 2);
      $('decoded-claims').textContent = JSON.stringify(inspection.claims, null, 2);
      show($('decoded'), true);
    } catch (error) {
      if (error instanceof NeedsToken) return;
      show($('decoded'), false);
      $('decode-error').textContent = `Cannot decode: ${error.message}`;
      show($('decode-error'), true);
    }
  }

  // ---- Faults -------------------------------------------------------------------------------

  function describeFault(fault) {
    switch (fault.type) {
      case 'status': return `status ${fault.code}`;
      case 'latency': return `latency ${fault.ms} ms`;
      case 'malformed_body': return 'malformed body';
      case 'empty_key_set': return 'empty key set';
      default: return fault.type;
    }
  }

  async function setFault(endpoint, fault) {
    await attempt(async () => {
      await admin('PUT', `faults/${endpoint}`, fault);
      say(`${endpoint}: ${describeFault(fault)}`, true);
      await loadFaults();
    });
  }

  /** The controls that add a fault to `endpoint`. */
  function faultControls(endpoint) {
    const status = el('input', { type: 'number', min: 100, max: 999, value: 503, className: 'short' });
    const latency = el('input', { type: 'number', min: 0, value: 2000, className: 'short' });
    return el('span', { className: 'controls' },
      status,
      el('button', { type: 'button', onclick: () => setFault(endpoint, { type: 'status', code: Number(status.value) }) }, 'Set status'),
      latency,
      el('button', { type: 'button', onclick: () => setFault(endpoint, { type: 'latency', ms: Number(latency.value) }) }, 'Set latency (ms)'),
      el('button', { type: 'button', onclick: () => setFault(endpoint, { type: 'malformed_body' }) }, 'Malformed body'),
      endpoint === 'jwks'
        && el('button', { type: 'button', onclick: () => setFault(endpoint, { type: 'empty_key_set' }) }, 'Empty key set'));
  }

  async function loadFaults() {
    const [faults, counts] = await Promise.all([admin('GET', 'faults'), admin('GET', 'requests')]);
    fill($('fault-table'), table(
      ['Endpoint', 'Requests', 'Faults set', 'Add a fault'],
      Object.keys(faults).map((endpoint) => [
        el('code', {}, endpoint),
        String(counts[endpoint]),
        el('span', { 'data-endpoint': endpoint, className: faults[endpoint].length ? 'bad' : '' },
          faults[endpoint].length ? faults[endpoint].map(describeFault).join(', ') : 'none'),
        faultControls(endpoint),
      ]),
    ));
  }

  // ---- curl lines ---------------------------------------------------------------------------

  /** `text` quoted for a POSIX shell. */
  function sq(text) {
    return `'${String(text).replace(/'/g, '\'\\\'\'')}'`;
  }

  function base64url(bytes) {
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  /** A PKCE verifier and its S256 challenge, or null where the browser has no WebCrypto
   *  (a page served over plain HTTP to another host). */
  async function pkce() {
    if (!window.crypto || !crypto.subtle) return null;
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
    return { verifier, challenge: base64url(new Uint8Array(digest)) };
  }

  function commandLine(label, command) {
    return el('div', { className: 'command' },
      el('p', {}, label),
      el('pre', {}, command),
      el('button', { type: 'button', onclick: (e) => copy(command, e.target) }, 'Copy'));
  }

  /** The login URL of `client` and the command that redeems its code. */
  async function loginLines(client, api) {
    const callback = client.callbacks[0];
    const proof = await pkce();
    const params = new URLSearchParams({
      response_type: 'code',
      client_id: client.id,
      redirect_uri: callback,
      scope: ['openid profile email offline_access', ...api.scopes].join(' '),
      audience: api.identifier,
      state: base64url(crypto.getRandomValues(new Uint8Array(12))),
    });
    if (proof) {
      params.set('code_challenge', proof.challenge);
      params.set('code_challenge_method', 'S256');
    }
    const redeem = [`curl -s ${sq(`${tenant.issuer}oauth/token`)}`,
      '-d grant_type=authorization_code', `-d client_id=${sq(client.id)}`,
      `--data-urlencode redirect_uri=${sq(callback)}`,
      proof ? `-d code_verifier=${sq(proof.verifier)}` : '-d code_verifier=…',
      '-d code=PASTE_THE_CODE_HERE'].join(' ');
    return [
      commandLine(`Log in to ${client.id} (${client.app_type}): open in a browser, then take the code from the callback URL`,
        `${tenant.issuer}authorize?${params}`),
      commandLine(`Redeem that code (within a minute; this PKCE verifier goes with the URL above)`, redeem),
    ];
  }

  async function renderCurl() {
    const lines = [];
    for (const client of tenant.clients.filter((c) => c.secret !== null && c.grants.length)) {
      const body = JSON.stringify({
        grant_type: 'client_credentials',
        client_id: client.id,
        client_secret: client.secret,
        audience: client.grants[0].audience,
      });
      lines.push(commandLine(`Client credentials for ${client.id}`,
        `curl -s ${sq(`${tenant.issuer}oauth/token`)} -H 'content-type: application/json' -d ${sq(body)}`));
    }
    lines.push(commandLine('The JWKS', `curl -s ${sq(`${tenant.issuer}.well-known/jwks.json`)}`));
    lines.push(commandLine('OpenID discovery',
      `curl -s ${sq(`${tenant.issuer}.well-known/openid-configuration`)}`));
    const spa = tenant.clients.find((c) => c.app_type === 'spa' && c.callbacks.length);
    if (spa && tenant.apis.length) lines.push(...await loginLines(spa, tenant.apis[0]));
    lines.push(commandLine('The profile of a user\'s token (one asked with openid)',
      `curl -s ${sq(`${tenant.issuer}userinfo`)} -H 'authorization: Bearer PASTE_THE_ACCESS_TOKEN'`));
    fill($('curl-lines'), lines);
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // No clipboard API (an insecure context): the old way, through a selected textarea.
      const area = el('textarea', { value: text });
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = label; }, 1200);
  }

  // ---- Wiring -------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('admin-token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      sessionStorage.setItem(TOKEN_KEY, $('admin-token-input').value.trim());
      $('admin-token-input').value = '';
      attempt(load);
    });
    $('rotate').addEventListener('click', (e) => changeKeys(e.target, 'rotate', 'Rotated: next is now current.'));
    $('revoke-previous').addEventListener('click', (e) => changeKeys(e.target, 'revoke-previous', 'Revoked the previous key.'));
    $('mint-audience').addEventListener('change', mintHint);
    $('mint-form').addEventListener('submit', mint);
    $('minted-copy').addEventListener('click', (e) => copy($('minted-token').textContent, e.target));
    $('minted-decode').addEventListener('click', () => {
      $('decode-input').value = $('minted-token').textContent;
      decode();
      $('decode').scrollIntoView();
    });
    $('decode-form').addEventListener('submit', decode);
    $('faults-clear').addEventListener('click', () => attempt(async () => {
      await admin('DELETE', 'faults');
      say('Every endpoint behaves again.', true);
      await loadFaults();
    }));
    $('faults-refresh').addEventListener('click', () => attempt(loadFaults));
    attempt(load);
  });
})();
