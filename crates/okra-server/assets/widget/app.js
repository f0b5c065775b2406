/*
 * The hosted widget page. Steps: choose bank → log in (→ one-time password) → pick accounts →
 * consent → success. Opened three ways:
 *   - by widget.js' buildWithOptions at /link: it posts {type:"ifameLoaded"} to its parent, takes
 *     the options it answers, and makes a link with the publishable key (links/new);
 *   - at /link/<token> (links/new's url, buildWithShortUrl, or a link sent by e-mail);
 *   - standalone (no parent window): after success it sends the browser to redirect_url.
 * Everything is drawn with DOM calls (no HTML from data), and every request goes to this origin.
 */
(function () {
  "use strict";

  var view = document.getElementById("view");
  var backButton = document.getElementById("back");
  var closeButton = document.getElementById("close");
  var embedded = window.parent !== window;
  var seq = 0; // the latest request's number: answers to older ones are ignored
  var parentOrigin = null; // learnt from the options message; until then only ifameLoaded is posted
  var state = {
    token: null,
    link: null,
    bank: null,
    login: null, // {username, password}: kept in memory only, for the OTP step
    nonce: null, // the login's connect nonce: only this page can connect its login
    accounts: [],
    chosen: [],
    payload: null,
    back: null
  };

  // ---- messages to the integrator's page (okra-js protocol) ----
  var queued = [];
  function post(type, data) {
    if (!embedded) return;
    var msg = { type: type, data: data === undefined ? null : data };
    if (type === "ifameLoaded") return window.parent.postMessage(msg, "*");
    if (!parentOrigin) return queued.push(msg); // sent once the parent's origin is known
    window.parent.postMessage(msg, parentOrigin);
  }
  function learnParent(origin) {
    embedded = true; // also when the options come after the standalone fallback
    parentOrigin = origin;
    queued.splice(0).forEach(function (msg) {
      window.parent.postMessage(msg, parentOrigin);
    });
  }
  function event(name, extra) {
    var data = { type: name };
    for (var k in extra || {}) data[k] = extra[k];
    post("event", data);
  }

  // ---- DOM helpers ----
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, v);
    }
    (children || []).forEach(function (c) {
      if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }
  function show(step, nodes, focus) {
    view.replaceChildren.apply(view, nodes);
    view.setAttribute("data-step", step);
    document.body.setAttribute("data-step", step);
    backButton.hidden = !state.back;
    // While the bank or the server is working, the widget cannot be closed: a connection that
    // completes must reach onSuccess.
    closeButton.hidden = step === "working";
    var target = focus || view.querySelector("h1");
    if (target) target.focus();
  }
  function heading(text) {
    return h("h1", { id: "heading", tabindex: "-1", text: text });
  }
  function alertBox(message) {
    return h("p", { class: "alert", role: "alert", text: message });
  }
  function spinner(label) {
    return h("div", { role: "status", class: "center" }, [
      h("div", { class: "spinner", "aria-hidden": "true" }),
      h("p", { class: "muted", text: label })
    ]);
  }
  function appName() {
    return (state.link && state.link.options.name) || "This app";
  }

  // ---- calls to this server ----
  function api(method, path, body) {
    var headers = { "x-okra-link": state.token };
    if (body) headers["content-type"] = "application/json";
    return fetch(path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit",
      cache: "no-store"
    }).then(answer);
  }
  function answer(res) {
    return res
      .json()
      .catch(function () {
        return {};
      })
      .then(function (body) {
        if (res.ok && body.status === "success") return body.data;
        var message = (body && body.message) || "Something went wrong, please try again";
        if (res.status >= 500) message = "Your bank is not answering right now. Please try again in a moment.";
        var err = new Error(message);
        err.status = res.status;
        throw err;
      });
  }

  // ---- steps ----
  function fatal(message, code) {
    state.back = null;
    post("error", { type: code || "WIDGET_ERROR", message: message });
    show("error", [heading("We can't continue"), alertBox(message)]);
  }

  function start(options) {
    options = options || {};
    var key = typeof options.key === "string" ? options.key.trim() : "";
    if (/^sk_/.test(key)) {
      // Never sent anywhere: a secret key in a web page is already exposed.
      return fatal(
        "A secret key was passed to the widget. Use your publishable key (pk_…) in web pages, and revoke this secret key: it is exposed.",
        "SECRET_KEY"
      );
    }
    if (!/^pk_(sandbox|live)_/.test(key)) {
      return fatal("The widget needs your publishable key (pk_…) as the `key` option.", "NO_KEY");
    }
    var base = /^pk_live_/.test(key) ? "/v2" : "/v2/sandbox";
    var body = {};
    for (var k in options) if (k !== "key" && k !== "token") body[k] = options[k];
    show("loading", [heading("Connecting to " + location.host), spinner("Preparing a secure link…")]);
    fetch(base + "/links/new", {
      method: "POST",
      headers: { authorization: "Bearer " + key, "content-type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    })
      .then(answer)
      .then(function (data) {
        var token = String(data.url || "").split("/").pop();
        history.replaceState(null, "", "/link/" + token);
        load(token);
      })
      .catch(function (e) {
        fatal(e.message, "LINK_FAILED");
      });
  }

  function load(token) {
    state.token = token;
    api("GET", "/widget/api/link")
      .then(function (link) {
        state.link = link;
        brand(link.options);
        if (link.status === "completed") return fatal("This link has already been used.", "LINK_USED");
        if (link.status === "expired") return fatal("This link has expired. Please ask for a new one.", "LINK_EXPIRED");
        event("WIDGET_OPENED", { link_id: link.link_id });
        chooseBank();
      })
      .catch(function (e) {
        fatal(e.message, "LINK_NOT_FOUND");
      });
  }

  function brand(options) {
    if (options.color) document.documentElement.style.setProperty("--brand", options.color);
    document.getElementById("app-name").textContent = options.name || "";
    var logo = document.getElementById("app-logo");
    if (options.logo) {
      logo.src = options.logo;
      logo.alt = options.name ? options.name + " logo" : "App logo";
      logo.hidden = false;
    }
  }

  function chooseBank() {
    state.back = null;
    seq++;
    var list = h("ul", { class: "banks", id: "bank-list" });
    var search = h("input", {
      type: "search",
      id: "bank-search",
      autocomplete: "off",
      "aria-controls": "bank-list",
      placeholder: "e.g. Zenith"
    });
    var none = h("p", { class: "muted", role: "status", hidden: true, text: "No bank matches your search." });
    function fill() {
      var q = search.value.trim().toLowerCase();
      var shown = state.link.banks.filter(function (b) {
        return !q || b.name.toLowerCase().indexOf(q) >= 0 || b.slug.indexOf(q) >= 0;
      });
      list.replaceChildren.apply(
        list,
        shown.map(function (b) {
          return h("li", {}, [
            h("button", { type: "button", class: "bank", "data-bank": b.slug, onclick: function () { pickBank(b); } }, [
              h("img", { src: b.icon, alt: "", width: "32", height: "32" }),
              h("span", { text: b.name })
            ])
          ]);
        })
      );
      none.hidden = shown.length > 0;
    }
    search.addEventListener("input", fill);
    fill();
    var intro = state.link.options.connectMessage ||
      appName() + " uses okra-server to connect your bank account securely.";
    show("banks", [
      heading("Select your bank"),
      h("p", { class: "muted", text: intro }),
      h("div", {}, [h("label", { for: "bank-search", text: "Search banks" }), search]),
      none,
      list
    ]);
  }

  function pickBank(bank) {
    state.bank = bank;
    state.login = null;
    event("BANK_SELECTED", { bank: bank.slug });
    loginForm(null);
  }

  function loginForm(error) {
    state.back = chooseBank;
    var bank = state.bank;
    var user = h("input", { type: "text", id: "username", name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
    // After a refused login the username stays; the password is typed again.
    if (state.login) user.value = state.login.username;
    var pass = h("input", { type: "password", id: "password", name: "password", autocomplete: "current-password", required: true });
    var submit = h("button", { type: "submit", class: "primary", text: "Log in" });
    var form = h("form", { novalidate: true, "aria-describedby": error ? "login-error" : null }, [
      h("div", {}, [h("label", { for: "username", text: "Username" }), user]),
      h("div", {}, [h("label", { for: "password", text: "Password" }), pass]),
      submit
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!user.value.trim() || !pass.value) {
        return loginForm("Enter your username and password.");
      }
      state.login = { username: user.value.trim(), password: pass.value };
      submitLogin(null);
    });
    var nodes = [
      h("div", { class: "bank-head" }, [h("img", { src: bank.icon, alt: "" }), heading("Log in to " + bank.name)]),
      h("p", { class: "muted", text: "Use the details you use for " + bank.name + "'s online or mobile banking." })
    ];
    if (error) {
      var box = alertBox(error);
      box.id = "login-error";
      nodes.push(box);
    }
    nodes.push(form);
    show("login", nodes, user);
  }

  function submitLogin(otp) {
    var body = { bank: state.bank.slug, username: state.login.username, password: state.login.password };
    if (otp) body.otp = otp;
    event(otp ? "OTP_SUBMITTED" : "LOGIN_SUBMITTED", { bank: state.bank.slug });
    state.back = null;
    state.nonce = null;
    var mine = ++seq;
    show("working", [heading("Logging in"), spinner("Talking to " + state.bank.name + "…")]);
    api("POST", "/widget/api/login", body)
      .then(function (data) {
        if (mine !== seq) return;
        if (data.step === "otp") {
          event("OTP_REQUESTED", { bank: state.bank.slug });
          return otpForm(otp ? "That code was not accepted. Check it and try again." : null, data.message);
        }
        state.login = null; // the server keeps the bank's session; the password is forgotten here
        state.nonce = data.nonce;
        state.accounts = data.accounts || [];
        event("LOGIN_SUCCESS", { bank: state.bank.slug, accounts: state.accounts.length });
        pickAccounts(null);
      })
      .catch(function (e) {
        if (mine !== seq) return;
        post("error", { type: otp ? "OTP_FAILED" : "LOGIN_FAILED", message: e.message });
        if (otp && e.status === 400 && /one-time password/i.test(e.message)) return otpForm(e.message);
        loginForm(e.message);
      });
  }

  function otpForm(error, message) {
    state.back = function () {
      loginForm(null);
    };
    var code = h("input", { type: "text", id: "otp", name: "otp", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: "12" });
    var form = h("form", { novalidate: true }, [
      h("div", {}, [h("label", { for: "otp", text: "One-time password" }), code]),
      h("button", { type: "submit", class: "primary", text: "Verify" })
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!code.value.trim()) return otpForm("Enter the code your bank sent you.");
      submitLogin(code.value.trim());
    });
    var nodes = [
      heading("Enter your one-time password"),
      h("p", { class: "muted", text: message || state.bank.name + " sent a code to your phone or e-mail." })
    ];
    if (error) nodes.push(alertBox(error));
    nodes.push(form);
    show("otp", nodes, code);
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "";
    try {
      return new Intl.NumberFormat("en-NG", { style: "currency", currency: currency || "NGN" }).format(amount);
    } catch (e) {
      return String(amount);
    }
  }

  function pickAccounts(error) {
    state.back = null; // the bank login is done; closing starts again
    var multi = !!state.link.options.multi_account;
    var showBalance = !!state.link.options.showBalance;
    var name = "account";
    var items = state.accounts.map(function (a, i) {
      var input = h("input", {
        type: multi ? "checkbox" : "radio",
        name: name,
        value: a.nuban,
        id: "account-" + i,
        checked: multi ? state.chosen.indexOf(a.nuban) >= 0 || !state.chosen.length : i === 0
      });
      var detail = a.type.charAt(0).toUpperCase() + a.type.slice(1) + " · " + a.nuban + " · " + a.currency;
      var row = [input, h("span", { class: "what" }, [h("span", { class: "name", text: a.name }), h("span", { class: "detail", text: detail })])];
      if (showBalance && a.available_balance !== undefined && a.available_balance !== null) {
        row.push(h("span", { class: "amount", text: money(a.available_balance, a.currency) }));
      }
      return h("label", { class: "choice", for: "account-" + i }, row);
    });
    var list = h("div", { class: "choices", role: multi ? "group" : "radiogroup", "aria-labelledby": "heading" }, items);
    var form = h("form", { novalidate: true }, [list, h("button", { type: "submit", class: "primary", text: "Continue" })]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var chosen = Array.prototype.filter
        .call(form.querySelectorAll("input[name=account]"), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      if (!chosen.length) return pickAccounts("Choose at least one account.");
      state.chosen = chosen;
      event("ACCOUNTS_SELECTED", { count: chosen.length });
      consent();
    });
    var nodes = [
      heading(multi ? "Choose the accounts to connect" : "Choose the account to connect"),
      h("p", { class: "muted", text: state.bank.name + " holds " + state.accounts.length + (state.accounts.length === 1 ? " account" : " accounts") + " for you." })
    ];
    if (error) nodes.push(alertBox(error));
    nodes.push(form);
    show("accounts", nodes);
  }

  function consent() {
    state.back = function () {
      pickAccounts(null);
    };
    var items = state.link.consent.map(function (c) {
      return h("li", {}, [h("strong", { text: c.title }), h("span", { class: "muted", text: c.data })]);
    });
    var agree = h("button", { type: "button", class: "primary", id: "agree", text: "Agree and connect" });
    agree.addEventListener("click", connect);
    show("consent", [
      heading(appName() + " would like to access"),
      h("p", { class: "muted", text: "From " + state.bank.name + ", for the " + state.chosen.length + (state.chosen.length === 1 ? " account" : " accounts") + " you chose:" }),
      h("ul", { class: "consent" }, items),
      h("p", { class: "muted", text: "You can disconnect at any time by asking " + appName() + "." }),
      agree
    ]);
  }

  function connect() {
    event("CONSENT_GIVEN", {});
    state.back = null;
    show("working", [heading("Connecting"), spinner("Connecting your " + state.bank.name + " account…")]);
    var body = { accounts: state.chosen, consent: true, nonce: state.nonce, bank: state.bank.slug };
    api("POST", "/widget/api/connect", body)
      .then(function (payload) {
        state.payload = payload;
        state.nonce = null;
        post("success", payload);
        success();
      })
      .catch(function (e) {
        // A stale or dropped login: back to the bank's login, with the reason.
        if (e.status === 400 && /log in/i.test(e.message)) return loginForm(e.message);
        // The answer may be lost while the connection committed (a timeout, the network): the
        // link says whether it was used, and by which record.
        api("GET", "/widget/api/link")
          .then(function (link) {
            if (link.status !== "completed" || !link.record_id) throw e;
            state.payload = { record_id: link.record_id, record: link.record_id, done: true, success: true };
            post("success", state.payload);
            success();
          })
          .catch(function () {
            fatal(e.message, "CONNECT_FAILED");
          });
      });
  }

  function success() {
    state.back = null;
    var o = state.link.options;
    var done = h("button", { type: "button", class: "primary", id: "done", text: "Done" });
    done.addEventListener("click", finish);
    show("success", [
      h("div", { class: "done-mark", "aria-hidden": "true", text: "✓" }),
      heading(o.success_title || "Account connected"),
      h("p", { class: "muted center", text: o.success_message || "Your " + state.bank.name + " account is now connected to " + appName() + "." }),
      done
    ]);
  }

  function finish() {
    var o = state.link && state.link.options;
    if (embedded) return close();
    if (o && o.redirect_url && state.payload) {
      var url = new URL(o.redirect_url);
      url.searchParams.set("record_id", state.payload.record_id);
      location.assign(url.href);
      return;
    }
    closedPage();
  }

  function closedPage() {
    state.back = null;
    show("closed", [heading("You can close this page"), h("p", { class: "muted", text: "Nothing more is needed here." })]);
  }

  function close() {
    if (view.getAttribute("data-step") === "working") return;
    post("beforeClose", null);
    event("WIDGET_CLOSED", { step: view.getAttribute("data-step") });
    if (embedded) post("close", state.payload ? { record_id: state.payload.record_id } : null);
    else if (state.payload) finish();
    else closedPage();
  }

  backButton.addEventListener("click", function () {
    if (state.back) state.back();
  });
  closeButton.addEventListener("click", close);
  document.addEventListener("keydown", function (e) {
    // Escape in a text field belongs to the field (clearing a search); elsewhere it closes.
    if (e.key === "Escape" && !(e.target && e.target.tagName === "INPUT")) close();
  });

  // A frame that is not widget.js' (an e-mail preview, an integrator's own iframe) never sends
  // options: after a while the page behaves as if opened by itself, so that close, Done and
  // redirect_url work and nothing waits in the queue for an origin that will never be known.
  function standaloneUnlessAnswered() {
    if (!embedded) return;
    setTimeout(function () {
      if (!parentOrigin) embedded = false; // the queue stays, should the options still come
    }, 3000);
  }

  // ---- start ----
  var match = location.pathname.match(/^\/link\/([A-Za-z0-9_-]+)$/);
  if (match) {
    if (embedded) {
      // buildWithShortUrl: the options only carry callbacks; they tell us the parent's origin.
      window.addEventListener("message", function onOptions(e) {
        if (e.source !== window.parent || !e.data || e.data.type !== "options") return;
        window.removeEventListener("message", onOptions);
        learnParent(e.origin);
      });
      post("ifameLoaded");
    }
    load(match[1]);
    standaloneUnlessAnswered();
  } else if (embedded) {
    window.addEventListener("message", function onOptions(e) {
      if (e.source !== window.parent || !e.data || e.data.type !== "options") return;
      window.removeEventListener("message", onOptions);
      learnParent(e.origin);
      start(e.data.data);
    });
    post("ifameLoaded");
    // Framed by something other than widget.js: no options will come.
    setTimeout(function () {
      if (!parentOrigin) {
        embedded = false;
        fatal("Open this page through Okra.buildWithOptions, or with a link made by links/new.", "NO_OPTIONS");
      }
    }, 3000);
  } else {
    fatal("Open this page through Okra.buildWithOptions, or with a link made by links/new.", "NO_OPTIONS");
  }
})();
