// "Use this" beside a source's fields: puts what its captured page says of itself (title,
// date, an author or publisher already known) into the field, on the editor's click only.
// Nothing is saved until the editor saves the form.
"use strict";
document.addEventListener("click", function (event) {
  const button = event.target.closest("button[data-suggest-for]");
  if (!button) {
    return;
  }
  event.preventDefault();
  const field = document.getElementById(button.dataset.suggestFor);
  if (!field) {
    return;
  }
  if (field.tagName === "SELECT") {
    const id = button.dataset.optionId;
    let option = Array.from(field.options).find((o) => o.value === id);
    if (!option) {
      option = new Option(button.dataset.value, id, true, true);
      field.add(option);
    }
    option.selected = true;
    if (window.django && django.jQuery) {
      django.jQuery(field).trigger("change");
    } else {
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  } else {
    field.value = button.dataset.value;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
  button.textContent = "Used";
  button.disabled = true;
  field.focus();
});
