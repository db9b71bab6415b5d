/* sspr progressive enhancement: the live password checklist, the entropy bar, the password
   generator, the show/hide toggles (passwords, and answers typed twice), the waiting
   indicator, and focus on the first field in error.
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

  // The CNIL's entropy (sspr/domain/entropy.py): length x log2(alphabet of the classes used).
  function cnilBits(chars) {
    var size = 0;
    if (chars.some(function (c) { return isLetter(c) && isLower(c); })) { size += 26; }
    if (chars.some(function (c) { return isLetter(c) && isUpper(c); })) { size += 26; }
    if (chars.some(isDigit)) { size += 10; }
    if (chars.some(function (c) { return !isDigit(c) && !isLower(c) && !isUpper(c); })) { size += 37; }
    return size ? Math.floor(chars.length * Math.log2(size) + 0.5) : 0;
  }

  // Different words of 3+ letters; a capital after a small letter starts a word.
  function passphraseWords(text) {
    var words = {};
    (text.match(/\p{L}+/gu) || []).forEach(function (run) {
      run.split(/(?<=\p{Ll})(?=\p{Lu})/u).forEach(function (word) {
        if (Array.from(word).length >= 3) {
          words[word.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "")] = true;
        }
      });
    });
    return Object.keys(words).length;
  }

  // A passphrase of enough words is exempt from these (sspr/domain/policy.py).
  var waived = ["min_entropy_bits", "min_lower", "min_upper", "min_digit", "min_special",
                "min_letters", "min_special_or_accented", "min_classes"];

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
    forbidden_chars: function (chars, v) { return !chars.some(function (c) { return v.indexOf(c) >= 0; }); },
    min_entropy_bits: function (chars, v) { return cnilBits(chars) >= v[0]; }
  };

  function markRule(list, item, ok, typed) {
    // Live, a rule not yet met stays neutral: red is for the server's verdict on submission.
    item.classList.toggle("rule-ok", typed && ok);
    item.classList.toggle("rule-failed", false);
    var state = item.querySelector(".rule-live-state");
    var text = list.getAttribute(ok ? "data-ok-text" : "data-ko-text") || "";
    if (state) { state.textContent = typed ? " — " + text : ""; }
  }

  function updateEntropy(policy, chars) {
    var box = policy.querySelector(".entropy");
    if (!box) { return; }
    var bits = cnilBits(chars);
    var required = parseInt(box.getAttribute("data-required"), 10);
    box.querySelector(".entropy-label").textContent =
      (box.getAttribute("data-text") || "").replace("{bits}", String(bits));
    box.querySelector("meter").value = Math.min(bits, required);
  }

  function showAdvice(policy, title, texts) {
    var box = policy.querySelector(".advice");
    if (!box) { return; }
    box.textContent = "";
    if (!texts.length) { return; }
    var heading = document.createElement("p");
    heading.className = "advice-title";
    heading.textContent = title;
    var items = document.createElement("ul");
    texts.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      items.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(items);
  }

  function postJson(policy, form, url, body) {
    var token = form.querySelector("input[name=csrf_token]");
    body.context = policy.getAttribute("data-context");
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify(body)
    }).then(function (response) { return response.ok ? response.json() : null; });
  }

  function setupChecklist(list) {
    var form = list.closest("form");
    var policy = list.closest(".policy");
    var input = form && form.querySelector("input[name=password]");
    if (!input || !policy) { return; }
    var rules = JSON.parse(list.getAttribute("data-rules") || "[]");
    var entropyRule = rules.filter(function (r) { return r.code === "min_entropy_bits"; })[0];
    var serverCodes = ["no_user_parts", "forbidden_words", "min_guess_score"];
    var generator = policy.querySelector("[data-generator]");
    var adviceTitle = generator ? generator.getAttribute("data-advice-title") : "";
    var timer = null;
    var asked = 0;
    function askServer(value) {
      // The server's answer for the rules needing the account or large lists; a late answer
      // for an older value is dropped. The submitted password is checked again anyway.
      var ticket = ++asked;
      postJson(policy, form, policy.getAttribute("data-check-url"), { password: value })
        .then(function (answer) {
          if (!answer || ticket !== asked || input.value !== value) { return; }
          rules.forEach(function (rule) {
            var item = list.querySelector('[data-rule="' + rule.code + '"]');
            if (!item || serverCodes.indexOf(rule.code) < 0) { return; }
            item.classList.remove("rule-pending");
            // A rule the server could not answer yet (no account known) stays neutral.
            if ((answer.checked || []).indexOf(rule.code) < 0) { return; }
            markRule(list, item, answer.failed.indexOf(rule.code) < 0, true);
          });
          showAdvice(policy, adviceTitle || "", answer.advice || []);
        })
        .catch(function () { /* offline: the server checks at submission */ });
    }
    function update() {
      var chars = Array.from(input.value.normalize("NFC"));
      var typed = chars.length > 0;
      var exempt = entropyRule && entropyRule.value[1] > 0 &&
        passphraseWords(input.value.normalize("NFC")) >= entropyRule.value[1];
      rules.forEach(function (rule) {
        var item = list.querySelector('[data-rule="' + rule.code + '"]');
        var check = checks[rule.code];
        if (!item || !check) { return; }
        // The directory's own rules know no passphrase exemption ("unwaivable").
        var waivedHere = exempt && waived.indexOf(rule.code) >= 0 && !rule.unwaivable;
        var ok = waivedHere || check(chars, rule.value);
        markRule(list, item, ok, typed);
      });
      updateEntropy(policy, chars);
      window.clearTimeout(timer);
      var hasServerRules = rules.some(function (r) { return serverCodes.indexOf(r.code) >= 0; });
      if (typed && hasServerRules) {
        serverCodes.forEach(function (code) {
          var item = list.querySelector('[data-rule="' + code + '"]');
          if (item) { item.classList.add("rule-pending"); }
        });
        timer = window.setTimeout(function () { askServer(input.value); }, 350);
      } else if (!typed) {
        showAdvice(policy, "", []);
      }
    }
    input.addEventListener("input", update);
    if (input.value) { update(); }
  }

  function setupGenerator(box) {
    var policy = box.closest(".policy");
    var form = box.closest("form");
    var output = box.querySelector("output");
    var status = box.querySelector(".generated-status");
    var copy = box.querySelector("[data-copy]");
    box.hidden = false;
    box.querySelector("[data-generate]").addEventListener("click", function () {
      postJson(policy, form, policy.getAttribute("data-suggest-url"), {}).then(function (answer) {
        if (!answer || !answer.password) { return; }
        output.textContent = answer.password;
        status.textContent = "";
        box.querySelector(".generated").hidden = false;
      }).catch(function () { /* the user can still type a password */ });
    });
    copy.addEventListener("click", function () {
      var done = function () { status.textContent = copy.getAttribute("data-copied-text"); };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(output.textContent).then(done).catch(function () {});
      }
    });
    box.querySelector("[data-use]").addEventListener("click", function () {
      ["password", "confirmation"].forEach(function (name) {
        var field = form.querySelector("input[name=" + name + "]");
        if (field) {
          field.value = output.textContent;
          field.dispatchEvent(new Event("input", { bubbles: true }));
        }
      });
      var first = form.querySelector("input[name=password]");
      if (first) { first.focus(); }
    });
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

  // A real button after a masked field (input[data-reveal]) shows or hides what was typed.
  // Its name says what it will do, and to which field ("Afficher Réponse" / "Masquer Réponse").
  function setupReveal(input) {
    var label = document.querySelector('label[for="' + input.id + '"]');
    var showText = input.getAttribute("data-reveal-show") || "Afficher";
    var hideText = input.getAttribute("data-reveal-hide") || "Masquer";
    var wrapper = document.createElement("div");
    wrapper.className = "input-reveal";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal-button";
    button.setAttribute("aria-controls", input.id);
    var verb = document.createElement("span");
    var target = document.createElement("span");
    target.className = "visually-hidden";
    target.textContent = label ? " " + label.textContent.trim() : "";
    button.appendChild(verb);
    button.appendChild(target);
    function render(shown) {
      input.type = shown ? "text" : "password";
      verb.textContent = shown ? hideText : showText;
    }
    button.addEventListener("click", function () { render(input.type === "password"); });
    // Never submitted in clear text by mistake: the field is masked again on submit.
    if (input.form) { input.form.addEventListener("submit", function () { render(false); }); }
    render(false);
    wrapper.appendChild(button);
  }

  // After a refused submission, the first field in error gets the focus (RGAA 11.10); else
  // the autofocus field keeps it, though the show/hide buttons moved it into a wrapper.
  function focusFirstError() {
    var first = document.querySelector("main [aria-invalid=true]") ||
      document.querySelector("main [autofocus]");
    if (first && document.activeElement !== first) { first.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("ul.checklist[data-rules]").forEach(setupChecklist);
    document.querySelectorAll("[data-generator]").forEach(setupGenerator);
    document.querySelectorAll("form[data-wait]").forEach(setupWaiting);
    document.querySelectorAll("input[data-reveal]").forEach(setupReveal);
    focusFirstError();
  });
})();
