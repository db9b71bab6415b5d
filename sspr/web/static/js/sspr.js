/* sspr progressive enhancement: the live password checklist and the waiting indicator.
   Every page works without this file; the server checks every rule again. */
(function () {
  "use strict";

  var isLetter = function (c) { return /\p{L}/u.test(c); };
  var isLower = function (c) { return /\p{Ll}/u.test(c); };
  var isUpper = function (c) { return /\p{Lu}/u.test(c); };
  var isDigit = function (c) { return /\p{Nd}/u.test(c); };
  var isSpecial = function (c) { return !/[\p{L}\p{N}]/u.test(c); };
  var isAccented = function (c) { return isLetter(c) && (c.charCodeAt(0) > 127 || c.normalize("NFD") !== c); };

  function count(chars, predicate) {
    return chars.filter(predicate).length;
  }

  function classes(chars) {
    return [isLower, isUpper, isDigit, isSpecial].filter(function (p) { return chars.some(p); }).length;
  }

  // Mirrors sspr/domain/policy.py for the rules a browser can check alone.
  var checks = {
    length: function (chars, v) { return chars.length >= v[0] && chars.length <= v[1]; },
    min_length: function (chars, v) { return chars.length >= v; },
    min_letters: function (chars, v) { return count(chars, isLetter) >= v; },
    min_upper: function (chars, v) { return count(chars, isUpper) >= v; },
    min_lower: function (chars, v) { return count(chars, isLower) >= v; },
    min_digit: function (chars, v) { return count(chars, isDigit) >= v; },
    min_special: function (chars, v) { return count(chars, isSpecial) >= v; },
    min_special_or_accented: function (chars, v) {
      return count(chars, function (c) { return isSpecial(c) || isAccented(c); }) >= v;
    },
    min_classes: function (chars, v) { return classes(chars) >= v; },
    forbidden_chars: function (chars, v) { return !chars.some(function (c) { return v.indexOf(c) >= 0; }); }
  };

  function setupChecklist(list) {
    var form = list.closest("form");
    var input = form && form.querySelector("input[name=password]");
    if (!input) { return; }
    var rules = JSON.parse(list.getAttribute("data-rules") || "[]");
    var okText = list.getAttribute("data-ok-text") || "";
    var koText = list.getAttribute("data-ko-text") || "";
    function update() {
      var chars = Array.from(input.value.normalize("NFC"));
      rules.forEach(function (rule) {
        var item = list.querySelector('[data-rule="' + rule.code + '"]');
        var check = checks[rule.code];
        if (!item || !check) { return; }
        var ok = chars.length > 0 && check(chars, rule.value);
        item.classList.toggle("rule-ok", ok);
        item.classList.toggle("rule-failed", false);
        var state = item.querySelector(".rule-live-state");
        if (state) { state.textContent = chars.length ? " — " + (ok ? okText : koText) : ""; }
      });
    }
    input.addEventListener("input", update);
    if (input.value) { update(); }
  }

  function setupWaiting(form) {
    form.addEventListener("submit", function (event) {
      // A widget that holds the submission back (the captcha solving first) submits again.
      if (event.defaultPrevented) { return; }
      var waiting = form.querySelector(".waiting");
      if (waiting) { waiting.hidden = false; }
      // Disabled after this tick, so the button's own name and value are still sent.
      window.setTimeout(function () {
        form.querySelectorAll("[type=submit]").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("ul.checklist[data-rules]").forEach(setupChecklist);
    document.querySelectorAll("form[data-wait]").forEach(setupWaiting);
  });
})();
