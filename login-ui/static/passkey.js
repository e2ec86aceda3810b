// Tsubasa passkeys: the login page's button and autofill (conditional
// mediation) and its report of what the browser can do, the passkey offer
// after a login, the registration page, and the passkey list's hint to the
// browser. The only script of the hosted pages (CSP script-src 'self', no
// inline script): pages give it their endpoints and messages in data-*
// attributes. In a browser without WebAuthn it does nothing, and the
// passkey parts of the pages stay hidden.
//
// The server sends options as {"publicKey": {...}} with binary members in
// unpadded base64url, and takes back credential.toJSON(). Browsers without
// parse*OptionsFromJSON / toJSON get the same conversion done here.
(function () {
  'use strict';

  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials || !window.fetch || !window.JSON) {
    return;
  }

  function toBytes(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) {
      b64 += '=';
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toB64url(buf) {
    var bytes = new Uint8Array(buf);
    var bin = '';
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withIds(list) {
    return (list || []).map(function (c) {
      var d = {};
      for (var k in c) {
        d[k] = c[k];
      }
      d.id = toBytes(c.id);
      return d;
    });
  }

  function copy(o) {
    var out = {};
    for (var k in o) {
      out[k] = o[k];
    }
    return out;
  }

  function creationOptions(pk) {
    if (typeof PKC.parseCreationOptionsFromJSON === 'function') {
      return PKC.parseCreationOptionsFromJSON(pk);
    }
    var o = copy(pk);
    o.challenge = toBytes(pk.challenge);
    o.user = copy(pk.user);
    o.user.id = toBytes(pk.user.id);
    o.excludeCredentials = withIds(pk.excludeCredentials);
    return o;
  }

  function requestOptions(pk) {
    if (typeof PKC.parseRequestOptionsFromJSON === 'function') {
      return PKC.parseRequestOptionsFromJSON(pk);
    }
    var o = copy(pk);
    o.challenge = toBytes(pk.challenge);
    o.allowCredentials = withIds(pk.allowCredentials);
    return o;
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') {
      try {
        return cred.toJSON();
      } catch (e) {
        // Fall through to the manual conversion.
      }
    }
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (typeof r.getTransports === 'function') {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toB64url(r.userHandle);
      }
    }
    return out;
  }

  // post sends JSON to one of our endpoints and resolves to
  // {ok, status, data}; it rejects only when the network fails.
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (res) {
      return res.json().catch(function () {
        return {};
      }).then(function (data) {
        return { ok: res.ok, status: res.status, data: data };
      });
    });
  }

  // The layout's alert region (role="alert") announces errors.
  function showError(text) {
    var region = document.querySelector('main .alert');
    if (!region) {
      return;
    }
    var p = document.createElement('p');
    p.className = 'error';
    var icon = document.createElement('span');
    icon.className = 'icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = '!';
    p.appendChild(icon);
    p.appendChild(document.createTextNode(' ' + text));
    region.replaceChildren(p);
  }

  function clearError() {
    var region = document.querySelector('main .alert');
    if (region) {
      region.replaceChildren();
    }
  }

  // failure is what a rejected step gives: a server answer {ok:false, data}
  // or a DOMException from the browser.
  function messageOf(failure, fallback) {
    if (failure && failure.data && failure.data.message) {
      return failure.data.message;
    }
    return fallback;
  }

  function isAbort(err) {
    return err && err.name === 'AbortError';
  }

  // In-app browsers of common apps (LINE, Facebook, Instagram, WeChat,
  // KakaoTalk …): no passkey is offered there. The server checks the same
  // markers (passkey.InAppBrowser).
  var IN_APP = / Line\/|FBAN\/|FBAV\/|FB_IAB|FBIOS|Instagram|MicroMessenger|KAKAOTALK|NAVER\(inapp|DaumApps|Twitter|Snapchat|musical_ly|BytedanceWebview|TikTok/i;

  // capabilities resolves to what this browser can do for a passkey offer:
  // platform (a user-verifying platform authenticator: the device's own
  // fingerprint, face or screen lock) and conditional (conditional create),
  // from getClientCapabilities where the browser has it, else from
  // isUserVerifyingPlatformAuthenticatorAvailable.
  function capabilities() {
    var none = { platform: false, conditional: false };
    if (IN_APP.test(navigator.userAgent)) {
      return Promise.resolve(none);
    }
    var caps = typeof PKC.getClientCapabilities === 'function' ?
      PKC.getClientCapabilities().catch(function () { return null; }) : Promise.resolve(null);
    return caps.then(function (c) {
      var conditional = !!(c && c.conditionalCreate === true);
      if (c && (c.passkeyPlatformAuthenticator === true || c.userVerifyingPlatformAuthenticator === true)) {
        return { platform: true, conditional: conditional };
      }
      if (typeof PKC.isUserVerifyingPlatformAuthenticatorAvailable !== 'function') {
        return none;
      }
      return PKC.isUserVerifyingPlatformAuthenticatorAvailable().then(function (ok) {
        return { platform: ok === true, conditional: ok === true && conditional };
      });
    }).catch(function () { return none; });
  }

  // reportCapabilities adds them to the password form, so that the server
  // may offer a passkey after this login. Without script nothing is added,
  // and no offer follows.
  function reportCapabilities() {
    var form = document.querySelector('form[action="/login"]');
    if (!form) {
      return;
    }
    capabilities().then(function (c) {
      var v = [];
      if (c.platform) {
        v.push('platform');
        if (c.conditional) {
          v.push('conditional');
        }
      }
      if (v.length === 0 || form.querySelector('input[name="passkey_capable"]')) {
        return;
      }
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = 'passkey_capable';
      input.value = v.join(' ');
      form.appendChild(input);
    });
  }

  function initLogin(box) {
    reportCapabilities();
    var button = document.getElementById('passkey-login-button');
    var pending = null; // AbortController of the autofill request
    var busy = false;

    // run asks for options, lets the browser get a credential, and posts it.
    // With conditional set, the request waits for the member to pick a
    // passkey from the member-number field's autofill.
    function run(conditional) {
      return post(box.dataset.begin, {}).then(function (r) {
        if (!r.ok) {
          throw r;
        }
        var pk = r.data.publicKey;
        var req = { publicKey: requestOptions(pk) };
        if (conditional) {
          pending = new AbortController();
          req.mediation = 'conditional';
          req.signal = pending.signal;
        }
        return navigator.credentials.get(req).then(function (cred) {
          pending = null;
          busy = true;
          clearError();
          return post(box.dataset.finish, credentialJSON(cred)).then(function (res) {
            if (res.ok && res.data.redirect) {
              window.location.assign(res.data.redirect);
              return;
            }
            if (res.data && res.data.unknownCredential && typeof PKC.signalUnknownCredential === 'function') {
              // Let the passkey provider hide a passkey we no longer know.
              PKC.signalUnknownCredential({ rpId: pk.rpId, credentialId: cred.id }).catch(function () {});
            }
            throw res;
          });
        });
      });
    }

    function fail(err) {
      if (isAbort(err)) {
        // The autofill request, replaced by the button's: not a failure.
        return;
      }
      busy = false;
      pending = null;
      showError(messageOf(err, box.dataset.error));
      rearm();
    }

    // After a failure the autofill offers passkeys again from the next
    // time the member-number field gets the focus.
    function rearm() {
      var field = document.querySelector('input[autocomplete~="webauthn"]');
      if (field) {
        field.addEventListener('focus', function () {
          if (!pending && !busy) {
            autofill();
          }
        }, { once: true });
      }
    }

    function autofill() {
      if (typeof PKC.isConditionalMediationAvailable !== 'function') {
        return;
      }
      PKC.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          run(true).catch(fail);
        }
      }).catch(function () {});
    }

    button.addEventListener('click', function () {
      if (busy) {
        return;
      }
      busy = true;
      clearError();
      if (pending) {
        // One WebAuthn request at a time: the button's replaces the autofill's.
        pending.abort();
        pending = null;
      }
      run(false).catch(fail);
    });
    box.hidden = false;
    autofill();
  }

  function initRegister(box) {
    var form = document.getElementById('passkey-register-form');
    var busy = false;
    document.getElementById('passkey-unsupported').hidden = true;
    form.hidden = false;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      clearError();
      post(box.dataset.begin, { name: document.getElementById('passkey_name').value }).then(function (r) {
        if (!r.ok) {
          throw r;
        }
        return navigator.credentials.create({ publicKey: creationOptions(r.data.publicKey) });
      }).then(function (cred) {
        return post(box.dataset.finish, credentialJSON(cred));
      }).then(function (r) {
        if (r.ok && r.data.redirect) {
          window.location.assign(r.data.redirect);
          return;
        }
        throw r;
      }).catch(function (err) {
        busy = false;
        if (err && err.data && err.data.location) {
          // Logged out, or the one-time password is too old: that page asks
          // for what is missing and comes back here.
          window.location.assign(err.data.location);
          return;
        }
        if (err && err.name === 'InvalidStateError') {
          // excludeCredentials matched: this authenticator already has one.
          showError(box.dataset.errorExists);
          return;
        }
        showError(messageOf(err, box.dataset.error));
      });
    });
  }

  // The offer after a password login: the button appears only where the
  // browser can create a passkey; without it, "not now" (a plain form)
  // goes on to the app. Before the code is passed the button goes to the
  // one-time-password gate, which comes back here. With conditional
  // create, the browser is first asked to create the passkey without a
  // prompt (after its password manager filled the password); if it does
  // not, the offer stays as it is.
  function initOffer(box) {
    var button = document.getElementById('passkey-offer-create');
    var busy = false;
    var quiet = null; // AbortController of the conditional request

    function ceremony(conditional) {
      return post(box.dataset.begin, {}).then(function (r) {
        if (!r.ok) {
          throw r;
        }
        var req = { publicKey: creationOptions(r.data.publicKey) };
        if (conditional) {
          quiet = new AbortController();
          req.mediation = 'conditional';
          req.signal = quiet.signal;
        }
        return navigator.credentials.create(req);
      }).then(function (cred) {
        quiet = null;
        return post(box.dataset.finish, credentialJSON(cred));
      }).then(function (r) {
        if (r.ok && r.data.redirect) {
          window.location.assign(r.data.redirect);
          return;
        }
        throw r;
      });
    }

    capabilities().then(function (c) {
      if (!c.platform) {
        return;
      }
      button.hidden = false;
      button.addEventListener('click', function () {
        if (busy) {
          return;
        }
        if (box.dataset.gate) {
          window.location.assign(box.dataset.gate);
          return;
        }
        busy = true;
        clearError();
        if (quiet) {
          quiet.abort();
          quiet = null;
        }
        ceremony(false).catch(function (err) {
          busy = false;
          if (err && err.data && err.data.location) {
            window.location.assign(err.data.location);
            return;
          }
          if (err && err.name === 'InvalidStateError') {
            showError(box.dataset.errorExists);
            return;
          }
          showError(messageOf(err, box.dataset.error));
        });
      });
      if (box.dataset.conditional && c.conditional) {
        ceremony(true).catch(function () {
          quiet = null;
        });
      }
    });
  }

  // On the passkey list, tell the member's passkey provider which passkeys
  // still count, so deleted ones stop being offered.
  function initSignal(el) {
    if (typeof PKC.signalAllAcceptedCredentials !== 'function' || !el.dataset.userId) {
      return;
    }
    var ids = el.dataset.credentialIds ? el.dataset.credentialIds.split(' ') : [];
    PKC.signalAllAcceptedCredentials({
      rpId: el.dataset.rpId,
      userId: el.dataset.userId,
      allAcceptedCredentialIds: ids
    }).catch(function () {});
  }

  var login = document.getElementById('passkey-login');
  if (login) {
    initLogin(login);
  }
  var register = document.getElementById('passkey-register');
  if (register) {
    initRegister(register);
  }
  var offer = document.getElementById('passkey-offer');
  if (offer) {
    initOffer(offer);
  }
  var signal = document.getElementById('passkey-signal');
  if (signal) {
    initSignal(signal);
  }
})();
