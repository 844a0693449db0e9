// A scripted stand-in for static/js/phone_adapter.js, loaded by the phone page only when the view
// passes stand_in_url (tests). The test drives it through window.phoneScript.
(function () {
  "use strict";
  window.PortalPhone = window.PortalPhone || {};
  window.PortalPhone.standIn = function () {
    var handlers = {};
    var state = "Disconnected";
    function emit(name) {
      var args = Array.prototype.slice.call(arguments, 1);
      (handlers[name] || []).forEach(function (handler) { handler.apply(null, args); });
    }
    var script = window.phoneScript = {
      // What createAgent leads to: "Connected", "never" (hangs, like the SDK offline) or an
      // error {code, subCode, message} it rejects with. The page's ?agent= sets it before start.
      agent: new URLSearchParams(window.location.search).get("agent") || "Connected",
      microphone: true,
      failNext: null, // {code, subCode}: the next startCall throws it
      tokens: [],
      calls: [],
      actions: [],
      emit: function (callState) { emit("call", callState, null); },
      end: function (code, subCode) { emit("call", "Disconnected", { code: code, subCode: subCode }); },
      connection: function (newState) { state = newState; emit("connection", newState); },
      ring: function (from) { emit("incoming", { from: from }); },
    };
    return {
      on: function (name, handler) { (handlers[name] = handlers[name] || []).push(handler); },
      createAgent: function (token) {
        script.tokens.push(token);
        if (script.agent === "never") { return new Promise(function () {}); }
        if (script.agent !== "Connected") { return Promise.reject(script.agent); }
        return Promise.resolve().then(function () { script.connection("Connected"); });
      },
      connectionState: function () { return state; },
      startCall: function (target, onBehalfOf) {
        script.calls.push({ target: target, onBehalfOf: onBehalfOf });
        var failure = script.failNext;
        script.failNext = null;
        if (failure) { emit("error", failure); return; }
        emit("call", "Connecting", null);
      },
      hangUp: function () {
        script.actions.push("hangUp");
        emit("call", "Disconnecting", null);
        emit("call", "Disconnected", { code: 0, subCode: 0 });
        return Promise.resolve();
      },
      mute: function (on) { script.actions.push(on ? "mute" : "unmute"); return Promise.resolve(); },
      hold: function (on) {
        script.actions.push(on ? "hold" : "resume");
        emit("call", on ? "LocalHold" : "Connected", null);
        return Promise.resolve();
      },
      accept: function () {
        script.actions.push("accept");
        emit("incoming", null);
        emit("call", "Connected", null);
        return Promise.resolve();
      },
      decline: function () { script.actions.push("decline"); emit("incoming", null); return Promise.resolve(); },
      askMicrophone: function () { return Promise.resolve(script.microphone); },
      devices: function () {
        return Promise.resolve([{ id: "mic-1", name: "Desk microphone" }, { id: "mic-2", name: "Headset" }]);
      },
      selectMicrophone: function (id) { script.actions.push("microphone " + id); return Promise.resolve(); },
    };
  };
})();
