/*
 * okra-server widget.js: window.Okra, a drop-in for okra-js.
 *
 *   <script src="https://your-okra-server/widget.js"></script>
 *   Okra.buildWithOptions({ key: "pk_sandbox_…", products: ["auth", "balance"], onSuccess: … });
 *   Okra.buildWithShortUrl({ short_url: "https://your-okra-server/l/…", onSuccess: … });
 *
 * Opens the hosted widget of the server this script came from in a full-screen iframe and speaks
 * okra-js' postMessage protocol with it: the widget posts {type: "ifameLoaded"} (Okra's spelling)
 * when it is ready, this script answers {type: "options", data: <options, functions stripped>},
 * and the widget then posts {type: "event" | "success" | "error" | "beforeClose" | "close", data},
 * which call onEvent, onSuccess, onError, beforeClose and onClose. Messages are accepted only
 * from the widget's own frame and origin.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var src = script && script.src ? script.src : "";
  // The server's address: where this script was loaded from, without "/widget.js".
  var base = src ? src.replace(/\/widget\.js(?:[?#].*)?$/, "") : location.origin;
  var origin = new URL(base, location.href).origin;
  var current = null;

  // The options as JSON: functions (the callbacks) and anything JSON cannot carry are left out.
  function plain(options) {
    return JSON.parse(
      JSON.stringify(options, function (key, value) {
        return typeof value === "function" ? undefined : value;
      })
    );
  }

  function call(callbacks, name, arg) {
    var f = callbacks[name];
    if (typeof f !== "function") return;
    try {
      f(arg);
    } catch (e) {
      // An integrator's callback that throws must not break the widget's protocol.
      setTimeout(function () {
        throw e;
      });
    }
  }

  function open(url, callbacks) {
    if (current) current.close();
    var options = plain(callbacks);
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = "Connect your bank account";
    frame.setAttribute("data-okra-widget", "");
    var s = frame.style;
    s.position = "fixed";
    s.top = "0";
    s.left = "0";
    s.width = "100%";
    s.height = "100%";
    s.border = "0";
    s.margin = "0";
    s.zIndex = "2147483647";
    s.background = "transparent";
    var overflow = document.body.style.overflow;
    document.body.style.overflow = "hidden";
    // Keyboard focus moves into the widget and comes back where it was when the widget closes.
    var focused = document.activeElement;
    frame.addEventListener("load", function () {
      frame.focus();
    });

    function teardown() {
      window.removeEventListener("message", onMessage);
      if (frame.parentNode) frame.parentNode.removeChild(frame);
      document.body.style.overflow = overflow;
      if (focused && typeof focused.focus === "function") focused.focus();
      if (current && current.frame === frame) current = null;
    }

    function onMessage(event) {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      var msg = event.data;
      if (typeof msg === "string") {
        try {
          msg = JSON.parse(msg);
        } catch (e) {
          return;
        }
      }
      if (!msg || typeof msg.type !== "string") return;
      switch (msg.type) {
        case "ifameLoaded":
          frame.contentWindow.postMessage({ type: "options", data: options }, origin);
          break;
        case "event":
          call(callbacks, "onEvent", msg.data);
          break;
        case "success":
          call(callbacks, "onSuccess", msg.data);
          break;
        case "error":
          call(callbacks, "onError", msg.data);
          break;
        case "beforeClose":
          call(callbacks, "beforeClose", msg.data);
          break;
        case "close":
          teardown();
          call(callbacks, "onClose", msg.data);
          break;
      }
    }

    window.addEventListener("message", onMessage);
    document.body.appendChild(frame);
    current = { frame: frame, close: teardown };
    return current;
  }

  window.Okra = {
    /** Opens the widget with okra-js' buildWithOptions options (key: your publishable key). */
    buildWithOptions: function (options) {
      open(base + "/link", options || {});
    },
    /** Opens the widget of a link made by links/new (its short_url or url). */
    buildWithShortUrl: function (options) {
      options = options || {};
      var url;
      try {
        url = new URL(String(options.short_url || ""), location.href);
      } catch (e) {
        url = null;
      }
      if (!url || url.origin !== origin || !/^\/(l|link)\/[A-Za-z0-9_-]+$/.test(url.pathname)) {
        call(options, "onError", {
          type: "INVALID_SHORT_URL",
          message: "short_url must be a link of " + origin
        });
        return;
      }
      open(url.href, options);
    },
    /** Closes the widget without calling onClose (okra-js has no such call; handy in tests). */
    close: function () {
      if (current) current.close();
    }
  };
})();
