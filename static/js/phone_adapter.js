// The browser phone's seam to the ACS Calling SDK (window.AcsCalling, from
// vendor/azure-communication-calling-*/acs-calling.min.js). phone.js speaks only to this small
// interface, so tests can swap the SDK for a scripted stand-in (tests/e2e/assets/phone_standin.js):
//
//   createAgent(token, refresh) -> Promise   connectionState() -> "Connected" | "Disconnected" | ...
//   startCall({teamsUserId} | {phoneNumber}, delegatorObjectId)   (throws {code, subCode})
//   hangUp(), mute(bool), hold(bool), accept(), decline()
//   askMicrophone() -> Promise<bool>, devices() -> Promise<[{id, name}]>, selectMicrophone(id)
//   on(event, handler): "connection" (state), "call" (state, endReason), "incoming" ({from}),
//                       "error" ({code, subCode, message})
(function () {
  "use strict";

  function sdkAdapter() {
    var sdk = window.AcsCalling;
    var handlers = {};
    var client = null;
    var agent = null;
    var deviceManager = null;
    var microphones = [];
    var call = null;
    var incoming = null;

    function emit(name) {
      var args = Array.prototype.slice.call(arguments, 1);
      (handlers[name] || []).forEach(function (handler) { handler.apply(null, args); });
    }

    function follow(newCall) {
      call = newCall;
      emit("call", call.state, null);
      call.on("stateChanged", function () {
        emit("call", call.state, call.state === "Disconnected" ? call.callEndReason : null);
      });
    }

    function errorOf(err) {
      // The SDK's errors carry the same code/subCode pairs as callEndReason.
      return { code: err && err.code, subCode: err && err.subCode, message: String(err && err.message || err) };
    }

    var adapter = {
      on: function (name, handler) { (handlers[name] = handlers[name] || []).push(handler); },

      createAgent: function (token, refresh) {
        if (!sdk) { return Promise.reject({ message: "The calling library did not load." }); }
        client = new sdk.CallClient();
        // The ACS token ends with the Entra token: the credential asks the portal for a new one.
        var credential = new sdk.AzureCommunicationTokenCredential(refresh ? {
          token: token, refreshProactively: true, tokenRefresher: function () { return refresh(); },
        } : token);
        return client.createTeamsCallAgent(credential).then(function (created) {
          agent = created;
          agent.on("connectionStateChanged", function (change) { emit("connection", change.newValue); });
          agent.on("incomingCall", function (event) {
            incoming = event.incomingCall;
            var caller = incoming.callerInfo || {};
            emit("incoming", { from: caller.displayName || "an unknown caller" });
            incoming.on("callEnded", function () { incoming = null; emit("incoming", null); });
          });
          emit("connection", agent.connectionState);
        });
      },

      connectionState: function () { return agent ? agent.connectionState : "Disconnected"; },

      startCall: function (target, delegatorObjectId) {
        var participant = target.phoneNumber
          ? { phoneNumber: target.phoneNumber }
          : { microsoftTeamsUserId: target.teamsUserId };
        var options = { onBehalfOfOptions: { userId: { microsoftTeamsUserId: delegatorObjectId } } };
        try {
          follow(agent.startCall(participant, options));
        } catch (err) {
          emit("error", errorOf(err));
        }
      },

      hangUp: function () { if (call) { return call.hangUp(); } return Promise.resolve(); },
      mute: function (on) { if (call) { return on ? call.mute() : call.unmute(); } return Promise.resolve(); },
      hold: function (on) { if (call) { return on ? call.hold() : call.resume(); } return Promise.resolve(); },

      accept: function () {
        if (!incoming) { return Promise.resolve(); }
        var accepted = incoming;
        incoming = null;
        return accepted.accept().then(follow, function (err) { emit("error", errorOf(err)); });
      },
      decline: function () {
        var declined = incoming;
        incoming = null;
        return declined ? declined.reject() : Promise.resolve();
      },

      askMicrophone: function () {
        return client.getDeviceManager().then(function (manager) {
          deviceManager = manager;
          return manager.askDevicePermission({ audio: true, video: false });
        }).then(function (access) { return Boolean(access && access.audio); });
      },
      devices: function () {
        if (!deviceManager) { return Promise.resolve([]); }
        return deviceManager.getMicrophones().then(function (found) {
          microphones = found;
          return found.map(function (d) { return { id: d.id, name: d.name || d.id }; });
        });
      },
      selectMicrophone: function (id) {
        var device = microphones.filter(function (d) { return d.id === id; })[0];
        return device && deviceManager ? deviceManager.selectMicrophone(device) : Promise.resolve();
      },
    };
    return adapter;
  }

  window.PortalPhone = window.PortalPhone || {};
  window.PortalPhone.sdkAdapter = sdkAdapter;
})();
