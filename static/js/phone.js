// The browser phone (templates/calls/phone.html): call as a delegator through ACS, in words.
// Talks to the SDK only through phone_adapter.js (or the tests' scripted stand-in).
// The token endpoint (config.token_url) answers a POST with {"token", "expires_on",
// "delegators"?, "note"?}, or with {"error": words, "consent_url"?} when the person must first
// allow the calling scope. Each call's start and end is reported to config.report_url (audit).
(function () {
  "use strict";

  var root = document.getElementById("phone");
  if (!root) { return; }
  var config = JSON.parse(document.getElementById("phone-config").textContent);
  var phone = window.PortalPhone || {};
  var adapter = phone.standIn ? phone.standIn() : phone.sdkAdapter();
  var CONNECT_TIMEOUT_MS = config.connect_timeout_ms || 8000;

  var OFFLINE = "Microsoft's calling service cannot be reached (the portal may be offline). " +
    "Calls cannot be placed from this page right now.";

  var STATE_WORDS = {
    None: "Ready to call",
    Connecting: "Calling…",
    Ringing: "Ringing…",
    EarlyMedia: "Ringing…",
    Connected: "Connected",
    LocalHold: "On hold",
    RemoteHold: "On hold by the other side",
    InLobby: "Waiting in the lobby",
    Disconnecting: "Hanging up…",
    Disconnected: "Call ended",
  };

  // The SDK's code/subCode pairs (callEndReason or a thrown error) in words; "code" alone is the
  // fallback for a subCode we do not know. 405/4645x: GRAPH_CONTRACT §8.
  var ERROR_WORDS = {
    "405/46450": "Calling on behalf of someone is not enabled for your organisation yet.",
    "405/46451": "You are not permitted to call on behalf of this person: Teams does not list " +
      "you as their delegate with permission to make calls.",
    "405/46452": "A Teams calling policy does not allow delegation (allowDelegation is off) " +
      "for you or this person: ask your Teams administrator.",
    "405/46453": "Calls on behalf of someone are one-to-one only: call one person at a time.",
    "405": "Calling on behalf of this person is not enabled or not permitted.",
    "490/4525": "The call could not reach Microsoft's calling service (network error).",
    "490": "The call could not reach Microsoft's calling service (network error).",
    "401": "Your calling sign-in has expired: reload the page.",
    "403": "Teams refused the call: you are not allowed to make it.",
    "404": "Teams could not find that person or number.",
    "408": "No answer.",
    "480": "The person is not available right now.",
    "486": "The person is busy.",
    "487": "The call was cancelled.",
    "603": "The call was declined.",
  };

  function byId(id) { return document.getElementById(id); }
  var statusLine = byId("phone-status");
  var errorLine = byId("phone-error");
  var form = byId("phone-call-form");
  var callButton = byId("phone-call");
  var controls = byId("phone-controls");
  var muteButton = byId("phone-mute");
  var holdButton = byId("phone-hold");
  var incomingBox = byId("phone-incoming");
  var micSelect = byId("phone-microphone");
  var micStatus = byId("phone-microphone-status");

  var connected = false;
  var inCall = false;
  var microphoneAllowed = false;
  var current = null; // the call being made or taken: {direction, on_behalf_of, target, started}

  function say(words, state) {
    statusLine.textContent = words;
    root.dataset.state = state;
  }
  function fail(words) { errorLine.textContent = words || ""; }

  function errorWords(reason) {
    if (!reason) { return ""; }
    if (!reason.code) { return reason.message || ""; }
    return ERROR_WORDS[reason.code + "/" + reason.subCode] || ERROR_WORDS[String(reason.code)] ||
      "The call failed (error " + reason.code + "/" + (reason.subCode || 0) + ").";
  }

  function setReady() {
    callButton.disabled = !connected || inCall;
    controls.hidden = !inCall;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function fetchToken() {
    return fetch(config.token_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok && body.token) { return body; }
        throw { message: body.error || "The portal could not get a calling token.", consentUrl: body.consent_url };
      });
    });
  }

  function refreshToken() { return fetchToken().then(function (body) { return body.token; }); }

  // The server re-checked each delegation live: keep only the people it confirmed.
  function keepConfirmed(delegators) {
    if (!delegators) { return; }
    Array.prototype.slice.call(byId("phone-delegator").options).forEach(function (option) {
      if (delegators.indexOf(option.value) < 0) { option.remove(); }
    });
  }

  function report(event, endReason) {
    if (!config.report_url || !current) { return; }
    var fields = new URLSearchParams({
      event: event,
      direction: current.direction,
      on_behalf_of: current.on_behalf_of || "",
      target: current.target || "",
    });
    if (endReason && endReason.code) {
      fields.set("code", endReason.code);
      fields.set("sub_code", endReason.subCode || 0);
    }
    fetch(config.report_url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
      body: fields,
    }).catch(function () { /* the call goes on; the audit misses this row */ });
  }

  function showConsent(url) {
    var form = byId("phone-consent");
    if (form && url) { form.action = url; form.hidden = false; }
  }

  function start() {
    say("Getting a calling token…", "token");
    fetchToken().then(function (body) {
      keepConfirmed(body.delegators);
      byId("phone-note").textContent = body.note || "";
      say("Connecting to Microsoft's calling service…", "connecting");
      // Who declared the service offline (our own time-out, the agent, or a lost connection) is
      // kept on the page: the tests check it was our time-out, not the SDK's much later one.
      var timer = window.setTimeout(function () {
        if (!connected) { root.dataset.offlineBy = "timeout"; say(OFFLINE, "offline"); }
      }, CONNECT_TIMEOUT_MS);
      return adapter.createAgent(body.token, refreshToken).then(function () {
        if (adapter.connectionState() !== "Connected" && root.dataset.state !== "offline") {
          window.clearTimeout(timer);
          root.dataset.offlineBy = "agent";
          say(OFFLINE, "offline");
        }
      }, function (err) {
        window.clearTimeout(timer);
        say("The phone could not start.", "failed");
        fail(errorWords(err) || "The calling library refused the token.");
      });
    }, function (err) {
      say("The phone could not start.", "failed");
      fail(err.message);
      showConsent(err.consentUrl);
    });
  }

  adapter.on("connection", function (state) {
    connected = state === "Connected";
    if (connected && !inCall) { say(STATE_WORDS.None, "ready"); }
    if (!connected && root.dataset.state === "ready") {
      root.dataset.offlineBy = "connection";
      say(OFFLINE, "offline");
    }
    setReady();
  });

  adapter.on("call", function (state, endReason) {
    inCall = state !== "Disconnected" && state !== "None";
    say(STATE_WORDS[state] || state, "call-" + state.toLowerCase());
    if (state === "Connecting") { fail(""); }
    if (current && !current.started && (state === "Connecting" || state === "Connected")) {
      current.started = true;
      report("started");
    }
    if (state === "Disconnected") {
      var failed = endReason && endReason.code && endReason.code !== 0;
      fail(failed ? errorWords(endReason) : "");
      report(failed ? "failed" : "ended", endReason);
      current = null;
      muteButton.setAttribute("aria-pressed", "false");
      muteButton.textContent = "Mute";
      holdButton.setAttribute("aria-pressed", "false");
      holdButton.textContent = "Hold";
    }
    setReady();
  });

  adapter.on("error", function (err) {
    inCall = false;
    say("Call failed", "call-failed");
    fail(errorWords(err));
    report("failed", err);
    current = null;
    setReady();
  });

  adapter.on("incoming", function (call) {
    incomingBox.hidden = !call;
    if (call) { byId("phone-incoming-from").textContent = call.from; }
  });

  function askMicrophone() {
    if (microphoneAllowed) { return Promise.resolve(true); }
    micStatus.textContent = "Asking for the microphone…";
    return adapter.askMicrophone().then(function (allowed) {
      microphoneAllowed = allowed;
      micStatus.textContent = allowed ? "Microphone allowed" :
        "Microphone blocked: allow it in your browser's site settings to call.";
      if (!allowed) { return false; }
      return adapter.devices().then(function (devices) {
        micSelect.replaceChildren.apply(micSelect, devices.map(function (device) {
          var option = document.createElement("option");
          option.value = device.id;
          option.textContent = device.name;
          return option;
        }));
        micSelect.disabled = devices.length === 0;
        return true;
      });
    }, function () {
      micStatus.textContent = "The microphone could not be opened.";
      return false;
    });
  }

  var E164 = /^\+[1-9][0-9]{6,14}$/;
  var OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var delegator = byId("phone-delegator").value;
    var kind = form.querySelector("input[name=target-kind]:checked").value;
    var value = byId("phone-target").value.trim();
    if (kind === "phone") { value = value.replace(/[\s().-]/g, ""); }
    if (kind === "phone" && !E164.test(value)) {
      return fail("Enter the phone number with its country code, e.g. +44 20 7946 0000.");
    }
    if (kind === "teams" && !OBJECT_ID.test(value)) {
      return fail("Choose the Teams person to call (their object id).");
    }
    fail("");
    askMicrophone().then(function (allowed) {
      if (!allowed) { return fail("A call needs your microphone."); }
      var target = kind === "phone" ? { phoneNumber: value } : { teamsUserId: value };
      current = { direction: "outgoing", on_behalf_of: delegator, target: value };
      adapter.startCall(target, delegator);
    });
  });

  byId("phone-hang-up").addEventListener("click", function () { adapter.hangUp(); });
  muteButton.addEventListener("click", function () {
    var on = muteButton.getAttribute("aria-pressed") !== "true";
    adapter.mute(on);
    muteButton.setAttribute("aria-pressed", String(on));
    muteButton.textContent = on ? "Unmute" : "Mute";
  });
  holdButton.addEventListener("click", function () {
    var on = holdButton.getAttribute("aria-pressed") !== "true";
    adapter.hold(on);
    holdButton.setAttribute("aria-pressed", String(on));
    holdButton.textContent = on ? "Resume" : "Hold";
  });
  byId("phone-accept").addEventListener("click", function () {
    askMicrophone().then(function () {
      current = { direction: "incoming" };
      adapter.accept();
    });
  });
  byId("phone-decline").addEventListener("click", function () { adapter.decline(); });
  byId("phone-allow-microphone").addEventListener("click", askMicrophone);
  micSelect.addEventListener("change", function () { adapter.selectMicrophone(micSelect.value); });
  form.querySelectorAll("input[name=target-kind]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      byId("phone-target-label").textContent = radio.value === "phone" ?
        "Phone number (with country code)" : "Teams person (object id)";
    });
  });

  setReady();
  start();
})();
