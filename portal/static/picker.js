// A searchable picker over a <select data-picker> (one or multiple): a combobox in the
// ARIA 1.2 pattern (role=combobox, a listbox of the matches, arrow keys, Enter, Escape)
// that filters the options by every typed word over their text and data-search (code,
// GTIN, name). A multiple select's choices show as chips with a remove button. The
// select stays in the form, hidden, and keeps the choices: the form posts the same names
// and values, and without this script the select works as it is.
(function () {
  "use strict";
  var SHOWN = 50; // matches listed at most; the rest are counted ("the first 50 of 300")

  function words(text) {
    return text.toLowerCase().split(/\s+/).filter(Boolean);
  }

  function enhance(select, index) {
    var multiple = select.multiple;
    var noun = select.dataset.pickerNoun || "item";
    var id = select.id || "picker-" + index;
    var options = Array.prototype.filter.call(select.options, function (o) {
      return o.value !== "";
    });
    var haystacks = options.map(function (o) {
      var group = o.parentNode.tagName === "OPTGROUP" ? o.parentNode.label : "";
      return [o.text, o.dataset.search || "", group].join(" ").toLowerCase();
    });

    var box = document.createElement("div");
    box.className = "picker";
    var chips = document.createElement("ul");
    chips.className = "picker-chips";
    chips.id = id + "-chips";
    chips.setAttribute("aria-label", "Chosen: " + noun + "s");
    var input = document.createElement("input");
    input.type = "text";
    input.id = id; // the select's <label for> now names the input
    input.className = "picker-input";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-listbox");
    input.placeholder = select.dataset.pickerPlaceholder || "Type to search";
    ["aria-invalid", "aria-describedby"].forEach(function (name) {
      if (select.hasAttribute(name)) {
        input.setAttribute(name, select.getAttribute(name));
      }
    });
    if (select.required) {
      input.setAttribute("aria-required", "true");
      select.required = false; // the hidden select cannot be focused to say it is missing
    }
    var list = document.createElement("ul");
    list.className = "picker-listbox";
    list.id = id + "-listbox";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", noun + "s matching");
    list.hidden = true;
    var more = document.createElement("p");
    more.className = "picker-more muted";
    more.id = id + "-more";
    more.hidden = true;
    var status = document.createElement("p");
    status.className = "sr-only";
    status.setAttribute("role", "status");

    var field = select.closest(".field");
    if (field) {
      field.querySelectorAll("[data-picker-nojs]").forEach(function (hint) {
        hint.remove();
      });
    }
    select.id = id + "-select";
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(box, select);
    if (multiple) {
      box.appendChild(chips);
    }
    box.appendChild(input);
    box.appendChild(list);
    box.appendChild(more);
    box.appendChild(status);
    box.appendChild(select);

    var shown = []; // indexes into options, in the listbox's order
    var active = -1;
    var isOpen = false; // the matches (or "no match") are showing

    function say(text) {
      status.textContent = text;
    }

    function changed() {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function drawChips() {
      chips.textContent = "";
      options.forEach(function (o) {
        if (!o.selected) {
          return;
        }
        var chip = document.createElement("li");
        chip.className = "picker-chip";
        var label = document.createElement("span");
        label.textContent = o.text;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "picker-remove";
        remove.textContent = "\u00d7";
        remove.setAttribute("aria-label", "Remove " + o.text);
        remove.addEventListener("click", function () {
          o.selected = false;
          drawChips();
          say("Removed " + o.text);
          changed();
          input.focus();
        });
        chip.appendChild(label);
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
      chips.hidden = !chips.children.length;
    }

    function chosenText() {
      var o = options.filter(function (x) {
        return x.selected;
      })[0];
      return o ? o.text : "";
    }

    function setActive(position) {
      var items = list.children;
      if (active >= 0 && items[active]) {
        items[active].classList.remove("active");
      }
      if (active >= 0 && items[active]) {
        items[active].setAttribute("aria-selected", "false");
      }
      active = position;
      if (active >= 0 && items[active]) {
        items[active].classList.add("active");
        items[active].setAttribute("aria-selected", "true"); // ARIA 1.2: the one pointed at
        items[active].scrollIntoView({ block: "nearest" });
        input.setAttribute("aria-activedescendant", items[active].id);
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      isOpen = false;
      list.hidden = true;
      more.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function open() {
      var typed = words(input.value === chosenText() && !multiple ? "" : input.value);
      var found = [];
      options.forEach(function (o, i) {
        if (multiple && o.selected) {
          return;
        }
        var hay = haystacks[i];
        if (
          typed.every(function (w) {
            return hay.indexOf(w) !== -1;
          })
        ) {
          found.push(i);
        }
      });
      shown = found.slice(0, SHOWN);
      list.textContent = "";
      shown.forEach(function (i, position) {
        var o = options[i];
        var item = document.createElement("li");
        item.id = id + "-option-" + position;
        item.className = "picker-option";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        if (o.selected) {
          item.classList.add("chosen"); // the current choice, drawn with a check
        }
        item.textContent = o.text;
        if (o.parentNode.tagName === "OPTGROUP") {
          var group = document.createElement("span");
          group.className = "picker-group muted";
          group.textContent = " \u2014 " + o.parentNode.label;
          item.appendChild(group);
        }
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the input
          choose(position);
        });
        list.appendChild(item);
      });
      var rest = found.length - shown.length;
      if (!found.length) {
        more.textContent = "No " + noun + " matches \u201c" + input.value.trim() + "\u201d.";
      } else if (rest > 0) {
        more.textContent =
          "Showing the first " + shown.length + " of " + found.length +
          " matches: type more to narrow them.";
      } else {
        more.textContent = found.length + (found.length === 1 ? " match." : " matches.");
      }
      isOpen = true;
      list.hidden = !shown.length;
      more.hidden = false;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      // Nothing typed in a single picker: no option is pointed at, so Enter clears the
      // choice ("All SKUs") rather than taking the first one.
      var blank = !multiple && !input.value.trim();
      setActive(shown.length && !blank ? 0 : -1);
      say(more.textContent);
    }

    function choose(position) {
      var o = options[shown[position]];
      if (!o) {
        return;
      }
      if (multiple) {
        o.selected = true;
        drawChips();
        input.value = "";
        say("Added " + o.text);
        close();
      } else {
        select.value = o.value;
        input.value = o.text;
        say("Chose " + o.text);
        close();
      }
      changed();
    }

    function clear() {
      close();
      if (select.value) {
        select.value = "";
        say("Cleared: " + (select.selectedOptions[0] ? select.selectedOptions[0].text : "no " + noun));
        changed();
      }
      input.value = chosenText();
    }

    // A required picker is checked before the form goes: the hidden select cannot be.
    if (input.getAttribute("aria-required") === "true" && select.form) {
      select.form.addEventListener("submit", function (event) {
        var none = !options.some(function (o) {
          return o.selected;
        });
        input.setCustomValidity(none ? "Choose " + (multiple ? "at least one " : "a ") + noun + "." : "");
        if (none) {
          event.preventDefault();
          input.reportValidity();
        }
      });
    }
    if (select.form) {
      select.form.addEventListener("reset", function () {
        setTimeout(function () { // after the form has put its options back
          if (multiple) {
            drawChips();
          }
          input.value = multiple ? "" : chosenText();
        }, 0);
      });
    }

    input.addEventListener("input", function () {
      input.setCustomValidity("");
      open();
    });
    input.addEventListener("click", function () {
      if (!isOpen) {
        open();
      }
    });
    input.addEventListener("focus", function () {
      if (!multiple) {
        input.select();
      }
    });
    input.addEventListener("blur", function () {
      close();
      if (!multiple) {
        if (!input.value.trim() && select.value) {
          select.value = "";
          changed();
        }
        input.value = chosenText();
      }
    });
    input.addEventListener("keydown", function (event) {
      var count = list.children.length;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (!isOpen) {
          open();
        } else if (count) {
          setActive((active + 1) % count);
        }
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (!isOpen) {
          open();
        } else if (count) {
          setActive((active - 1 + count) % count);
        }
      } else if (event.key === "Enter") {
        if (isOpen) {
          event.preventDefault(); // choosing, not submitting the form
          if (active >= 0) {
            choose(active);
          } else if (!multiple && !input.value.trim()) {
            clear();
          }
        }
      } else if (event.key === "Escape") {
        if (isOpen) {
          event.preventDefault();
          close();
          if (!multiple) {
            input.value = chosenText(); // the box shows what the form will post
          }
        } else if (input.value) {
          event.preventDefault();
          input.value = multiple ? "" : chosenText();
        }
      } else if (event.key === "Backspace" && multiple && !input.value) {
        var last = options.filter(function (o) {
          return o.selected;
        }).pop();
        if (last) {
          last.selected = false;
          drawChips();
          say("Removed " + last.text);
          changed();
        }
      }
    });

    if (multiple) {
      drawChips();
    } else {
      input.value = chosenText();
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-picker]"), enhance);
})();
