/* A citation's path, built step by step: beside each path field ("12>7", the ids of the
 * sources the cited source took the claim from), a list of the next steps the path may
 * take (the provenance links of the source it has reached: the cited source, then the
 * last one added) and a button taking the last step back. The field stays the record:
 * typed by hand, or without scripts, it is checked the same way when saved
 * (claims.paths).
 */
(function () {
  "use strict";

  function ids(input) {
    return input.value.split(">").map(function (part) {
      return part.trim();
    }).filter(Boolean);
  }

  function sourceSelect(input) {
    var name = input.name.replace(/path$/, "source");
    return document.querySelector('select[name="' + name + '"]');
  }

  function reached(input) {
    var path = ids(input);
    if (path.length) {
      return path[path.length - 1];
    }
    var select = sourceSelect(input);
    return select ? select.value : "";
  }

  function offer(input, choose) {
    var from = reached(input);
    choose.textContent = "";
    var first = document.createElement("option");
    first.value = "";
    first.textContent = from ? "Loading the next steps…" : "Choose the cited source first";
    choose.appendChild(first);
    choose.disabled = true;
    if (!/^[0-9]+$/.test(from)) {
      return;
    }
    fetch(input.dataset.stepsUrl + "?source=" + from, {credentials: "same-origin"})
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        var taken = ids(input);
        var steps = (data.steps || []).filter(function (step) {
          return taken.indexOf(String(step.id)) === -1;
        });
        first.textContent = steps.length
          ? "Add a step: what source " + from + " is based on…"
          : "Source " + from + " is based on no other source";
        steps.forEach(function (step) {
          var option = document.createElement("option");
          option.value = step.id;
          option.textContent = step.title + " (" + step.id + ")" + (step.note ? ": " + step.note : "");
          choose.appendChild(option);
        });
        choose.disabled = !steps.length;
      })
      .catch(function () {
        first.textContent = "The next steps could not be loaded: type the ids instead";
      });
  }

  function enhance(input) {
    if (input.dataset.pathReady || input.name.indexOf("__prefix__") !== -1) {
      return;
    }
    input.dataset.pathReady = "1";
    var choose = document.createElement("select");
    choose.setAttribute("aria-label", "Next step of the path");
    var back = document.createElement("button");
    back.type = "button";
    back.className = "button";
    back.textContent = "Take the last step back";
    input.insertAdjacentElement("afterend", back);
    input.insertAdjacentElement("afterend", choose);
    choose.addEventListener("change", function () {
      if (choose.value) {
        input.value = ids(input).concat([choose.value]).join(">");
        offer(input, choose);
      }
    });
    back.addEventListener("click", function () {
      input.value = ids(input).slice(0, -1).join(">");
      offer(input, choose);
    });
    input.addEventListener("change", function () {
      offer(input, choose);
    });
    var select = sourceSelect(input);
    if (select && window.django && window.django.jQuery) {
      // select2 tells of a choice through jQuery's events only.
      window.django.jQuery(select).on("change", function () {
        offer(input, choose);
      });
    }
    offer(input, choose);
  }

  function enhanceAll() {
    document.querySelectorAll("input.citation-path").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", enhanceAll);
  document.addEventListener("formset:added", enhanceAll);
})();
