// The pipeline board: drag a card to another column, or use its "Move to" menu. Loaded as a file (strict CSP).
// The server decides every move: on success it sends the board again; a refused move sends the board unchanged
// with the state machine's message (the card "snaps back"); a move that needs input sends a <dialog> first.
(function () {
  "use strict";
  var dragged = null;

  function csrfToken() {
    var input = document.querySelector("#board input[name=csrfmiddlewaretoken]");
    if (input) { return input.value; }
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function filterValues(data) {
    var form = document.querySelector("form.filters");
    if (!form) { return; }
    ["view", "interest", "grade"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value && !data.has(name)) { data.append(name, field.value); }
    });
  }

  function closeDialog() {
    var dialog = document.getElementById("board-dialog");
    if (dialog) {
      if (dialog.open) { dialog.close(); }
      dialog.remove();
    }
  }

  function showDialog(html) {
    closeDialog();
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var dialog = holder.querySelector("dialog");
    if (!dialog) { return; }
    document.body.appendChild(dialog);
    dialog.addEventListener("close", function () { dialog.remove(); });
    dialog.showModal();
    var first = dialog.querySelector(".has-error select, .has-error input, select, input:not([type=hidden]), textarea");
    if (first) { first.focus(); }
  }

  function replaceBoard(html) {
    var board = document.getElementById("board");
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var fresh = holder.querySelector("#board");
    if (!board || !fresh) { return; }
    // The columns stay where the user had scrolled them (a move must not jump back to the first column).
    var columns = board.querySelector(".board");
    var left = columns ? columns.scrollLeft : 0;
    board.replaceWith(fresh);
    var freshColumns = fresh.querySelector(".board");
    if (freshColumns) { freshColumns.scrollLeft = left; }
    if (window.htmx) { window.htmx.process(fresh); }
    var status = fresh.querySelector("#board-status");
    if (status && status.textContent.trim()) { status.setAttribute("tabindex", "-1"); }
  }

  function send(url, options) {
    var board = document.getElementById("board");
    if (board) { board.classList.add("is-busy"); }
    options.headers = { "X-Board": "1", "X-CSRFToken": csrfToken() };
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      return response.text().then(function (html) {
        if (board) { board.classList.remove("is-busy"); }
        if (response.headers.get("X-Board-Dialog") === "1") {
          showDialog(html);
        } else if (html.indexOf('id="board"') !== -1) {
          closeDialog();
          replaceBoard(html);
        } else {
          window.location.reload();
        }
      });
    }).catch(function () {
      if (board) { board.classList.remove("is-busy"); }
    });
  }

  function move(card, to) {
    var data = new FormData();
    data.append("to", to);
    data.append("version", card.dataset.version);
    data.append("csrfmiddlewaretoken", csrfToken());
    filterValues(data);
    return send(card.dataset.moveUrl, { method: "POST", body: data });
  }

  function askFor(card, to) {
    var params = new URLSearchParams({ to: to });
    var form = document.querySelector("form.filters");
    if (form) {
      ["view", "interest", "grade"].forEach(function (name) {
        var field = form.elements[name];
        if (field && field.value) { params.append(name, field.value); }
      });
    }
    return send(card.dataset.moveUrl + "?" + params.toString(), { method: "GET" });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board-card[draggable=true]");
    if (!card) { return; }
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.lead);
  });
  document.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("is-dragging"); }
    document.querySelectorAll(".board-column.is-over").forEach(function (c) { c.classList.remove("is-over"); });
  });
  document.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".board-column");
    if (!column || !dragged) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".board-column.is-over").forEach(function (c) {
      if (c !== column) { c.classList.remove("is-over"); }
    });
    column.classList.add("is-over");
  });
  document.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".board-column");
    if (!column || !dragged) { return; }
    event.preventDefault();
    column.classList.remove("is-over");
    var card = dragged;
    dragged = null;
    var to = column.dataset.status;
    if (to === card.dataset.status) { return; }
    if (column.dataset.needsInput === "1") { askFor(card, to); } else { move(card, to); }
  });

  // A card's "Move to" menu is its column's <template>, copied in when the menu first opens (one menu per
  // column in the page instead of one per card). Without script the menu links to the lead page instead.
  document.addEventListener("toggle", function (event) {
    var menu = event.target;
    if (!menu.matches || !menu.matches("details.board-menu") || !menu.open || menu.dataset.filled) { return; }
    var card = menu.closest(".board-card");
    var template = document.getElementById("menu-" + menu.dataset.menu);
    if (!card || !template) { return; }
    var form = template.content.firstElementChild.cloneNode(true);
    form.action = card.dataset.moveUrl;
    form.elements.version.value = card.dataset.version;
    form.querySelectorAll("a[data-to]").forEach(function (link) {
      link.href = card.dataset.moveUrl + link.getAttribute("href");
    });
    var fallback = menu.querySelector("[data-menu-fallback]");
    if (fallback) { fallback.replaceWith(form); } else { menu.appendChild(form); }
    menu.dataset.filled = "1";
  }, true);

  // The "Move to" menu and the dialog's form: sent by fetch so the board updates in place.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-board-move]");
    if (!form) { return; }
    event.preventDefault();
    var data = new FormData(form);
    if (event.submitter && event.submitter.name) { data.append(event.submitter.name, event.submitter.value); }
    filterValues(data);
    send(form.action, { method: "POST", body: data });
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-board-dialog]");
    if (link) {
      event.preventDefault();
      var menu = link.closest("details");
      if (menu) { menu.removeAttribute("open"); }
      send(link.href, { method: "GET" });
      return;
    }
    var cancel = event.target.closest("#board-dialog [data-dialog-close]");
    if (cancel) {
      event.preventDefault();
      closeDialog();
    }
  });
})();
