// "Use this" beside a source's fields: puts what its captured page says of itself (title,
// date, an author or publisher) into the field, on the editor's click only. An author or
// publisher not yet known is added first (one request; its history says who). Nothing of
// the source is saved until the editor saves the form.
"use strict";

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function optionFor(button) {
  if (button.dataset.optionId || !button.dataset.createUrl) {
    return button.dataset.optionId;
  }
  const body = new URLSearchParams({ name: button.dataset.value, kind: button.dataset.kind });
  const response = await fetch(button.dataset.createUrl, {
    method: "POST",
    headers: { "X-CSRFToken": csrfToken() },
    body: body,
    credentials: "same-origin",
  });
  const answer = await response.json();
  if (!response.ok) {
    throw new Error(answer.error || "The name could not be added.");
  }
  button.dataset.optionId = String(answer.id);
  button.dataset.value = answer.name;
  return button.dataset.optionId;
}

function choose(field, id, label) {
  let option = Array.from(field.options).find((o) => o.value === id);
  if (!option) {
    option = new Option(label, id, true, true);
    field.add(option);
  }
  option.selected = true;
  if (window.django && django.jQuery) {
    django.jQuery(field).trigger("change");
  } else {
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

document.addEventListener("click", async function (event) {
  const button = event.target.closest("button[data-suggest-for]");
  if (!button) {
    return;
  }
  event.preventDefault();
  const field = document.getElementById(button.dataset.suggestFor);
  if (!field) {
    return;
  }
  button.disabled = true;
  try {
    if (field.tagName === "SELECT") {
      choose(field, await optionFor(button), button.dataset.value);
    } else {
      field.value = button.dataset.value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    button.textContent = "Used";
  } catch (error) {
    button.disabled = false;
    button.textContent = "Use this (" + error.message + ")";
    return;
  }
  field.focus();
});
