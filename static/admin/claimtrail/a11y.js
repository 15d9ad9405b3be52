/* Accessible names for the admin's select2 autocomplete widgets and tabular inlines.
 *
 * Django's autocomplete markup leaves its comboboxes and search fields without a name
 * (axe rules aria-input-field-name and label; the open dropdown's search field too, drawn
 * at the end of the page), names what an open combobox controls by aria-owns where ARIA
 * asks for aria-controls (aria-required-attr), puts a <span> straight inside a <ul> (list),
 * leaves a tabular inline's first header (and its last, where rows cannot be deleted)
 * empty (empty-table-header) and its fields
 * labelled by a title only (label-title-only). This names each widget and field after its
 * label or column header, on load and whenever the form changes (a new inline row, a new
 * choice, a dropdown opened). An inline too wide for a phone's screen, which scrolls
 * sideways, can be focused to scroll it by keyboard (scrollable-region-focusable). No
 * markup of Django's is replaced.
 */
(function () {
  "use strict";

  function fieldName(select) {
    var label = select.id && document.querySelector('label[for="' + select.id + '"]');
    if (label) {
      return label.textContent.replace(/:\s*$/, "").trim();
    }
    // A tabular inline's cell: its column header names the field.
    var cell = select.closest("td");
    var table = cell && cell.closest("table");
    var field = cell && Array.prototype.find.call(cell.classList, function (name) {
      return name.indexOf("field-") === 0;
    });
    var header = field && table.querySelector("thead th.column-" + field.slice(6));
    return header ? header.textContent.trim() : select.name;
  }

  function setAttribute(element, name, value) {
    if (element && element.getAttribute(name) !== value) {
      element.setAttribute(name, value);
    }
  }

  function nameWidgets() {
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      var container = select.nextElementSibling;
      if (!container || !container.classList.contains("select2")) {
        return;
      }
      var name = fieldName(select);
      var rendered = container.querySelector(".select2-selection__rendered");
      if (rendered && !select.multiple) {
        var chosen = rendered.textContent.replace(/^×/, "").trim();
        setAttribute(rendered, "aria-label", name + ": " + (chosen || "none chosen"));
      }
      container.querySelectorAll(".select2-search__field").forEach(function (field) {
        setAttribute(field, "aria-label", name);
      });
      if (rendered && select.multiple) {
        Array.prototype.forEach.call(rendered.children, function (child) {
          if (child.tagName !== "LI") {
            setAttribute(child, "role", "listitem");
          }
        });
      }
    });
    // The open dropdown (at the end of the body) belongs to the expanded combobox.
    document.querySelectorAll('.select2-selection[aria-expanded="true"]').forEach(function (box) {
      var container = box.closest(".select2");
      var select = container && container.previousElementSibling;
      var owned = box.getAttribute("aria-owns");
      if (owned) {
        setAttribute(box, "aria-controls", owned);
      }
      document.querySelectorAll(".select2-container--open .select2-dropdown .select2-search__field")
        .forEach(function (field) {
          setAttribute(field, "aria-label", "Search " + (select ? fieldName(select) : "choices"));
        });
    });
    document.querySelectorAll('.select2-selection[aria-expanded="false"][aria-controls]').forEach(
      function (box) {
        box.removeAttribute("aria-controls");
      }
    );
    document.querySelectorAll(".inline-group").forEach(function (group) {
      if (group.scrollWidth > group.clientWidth && !group.hasAttribute("tabindex")) {
        group.setAttribute("tabindex", "0");
      }
    });
    document.querySelectorAll(".tabular tbody td").forEach(function (cell) {
      var header = cell.closest("table").querySelectorAll("thead th")[cell.cellIndex];
      var name = header && header.textContent.replace(/\?$/, "").trim();
      var row = cell.closest("tr");
      var number = Array.prototype.indexOf.call(row.parentNode.children, row) + 1;
      cell.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (field) {
        if (name && !(field.labels && field.labels.length) && !field.hasAttribute("aria-labelledby")) {
          setAttribute(field, "aria-label", name + ", row " + number);
        }
      });
    });
    document.querySelectorAll(".tabular thead th.original").forEach(function (header) {
      nameEmptyHeader(header, "Saved record");
    });
    // The last column is "Delete?", left empty where rows cannot be deleted.
    document.querySelectorAll(".tabular thead tr th:last-child:not(.original)").forEach(
      function (header) {
        nameEmptyHeader(header, "Cannot be deleted");
      }
    );
  }

  function nameEmptyHeader(header, words) {
    if (!header.textContent.trim()) {
      var text = document.createElement("span");
      text.className = "claimtrail-visually-hidden";
      text.textContent = words;
      header.appendChild(text);
    }
  }

  var scheduled = false;
  function schedule() {
    if (!scheduled) {
      scheduled = true;
      window.requestAnimationFrame(function () {
        scheduled = false;
        nameWidgets();
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    nameWidgets();
    new MutationObserver(schedule).observe(document.body, {
      childList: true,
      subtree: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["aria-expanded"],
    });
    window.addEventListener("resize", schedule);
  });
})();
