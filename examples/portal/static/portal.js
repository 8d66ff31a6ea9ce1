// The portal's only script. It is a file of its own because the
// Content-Security-Policy allows no inline script. Every page works
// without it: it counts down expiries, and it polls a status endpoint so
// that the page moves on by itself when a push is answered or a phone
// completes an activation.
//
// Countdowns: an element with data-remaining="N" shows the time left of
// N seconds, counted from when the page loaded.
//
// Polling: the element with data-poll="URL" has the URL polled; the JSON
// answer is {state, action, message}. "wait" polls again (showing the
// message in the element whose id is data-status-el), "finish" submits
// the form whose id is data-finish, "fallback" the form whose id is
// data-fallback, and "reload" fetches the page again with GET (never
// by reload(), which would send again the form a page answered).
//
// Leaving: when the polling element has data-leave="URL", a page that
// goes away (the tab closed, another address typed) posts a beacon to
// the URL with the CSRF token of the finish form and data-leave-page, so
// that the push or QR code it shows is withdrawn and spends nothing. The
// server ignores the beacon of a page that is not the one shown last (a
// reload) or whose push is over (the page moved on by itself).
//
// Forms: a form sends once. Its buttons are disabled once it is sent, so
// that a double-click sends it once. Back, when the browser shows the
// page from its memory, fetches the page again.
"use strict";
(function () {
	var loaded = Date.now();

	document.addEventListener("submit", function (e) {
		var form = e.target;
		if (form.hasAttribute("data-sent")) {
			e.preventDefault();
			return;
		}
		form.setAttribute("data-sent", "");
		// After this event: a disabled button would not send the form.
		setTimeout(function () {
			form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
		}, 0);
	});
	function again() {
		window.location.replace(window.location.pathname);
	}
	// A page the browser kept in memory is out of date: what it showed
	// (an activation, a push, a form sent) may be over. It is fetched
	// again, with GET.
	window.addEventListener("pageshow", function (e) {
		if (e.persisted) {
			again();
		}
	});

	function format(secs) {
		var m = Math.floor(secs / 60), s = secs % 60;
		return m + ":" + (s < 10 ? "0" : "") + s;
	}

	// Copy and print buttons, which need the script: shown by it.
	document.querySelectorAll("[data-copy]").forEach(function (b) {
		var from = document.getElementById(b.getAttribute("data-copy"));
		if (!from || !navigator.clipboard) {
			return;
		}
		b.hidden = false;
		b.addEventListener("click", function () {
			navigator.clipboard.writeText(from.innerText).then(function () {
				b.textContent = "Copied";
			}, function () {
				b.textContent = "Copy failed: select the codes and copy them";
			});
		});
	});
	document.querySelectorAll("[data-print]").forEach(function (b) {
		b.hidden = false;
		b.addEventListener("click", function () { window.print(); });
	});

	// Times in the person's own time zone: data-local-time="RFC 3339".
	document.querySelectorAll("[data-local-time]").forEach(function (el) {
		var t = new Date(el.getAttribute("data-local-time"));
		if (!isNaN(t)) {
			el.textContent = " (at " + t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) + ")";
		}
	});

	// "at HH:MM" in the person's own time zone: data-local-clock="RFC 3339".
	document.querySelectorAll("[data-local-clock]").forEach(function (el) {
		var t = new Date(el.getAttribute("data-local-clock"));
		if (!isNaN(t)) {
			el.textContent = "at " + t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
		}
	});

	document.querySelectorAll("[data-local-datetime]").forEach(function (el) {
		var t = new Date(el.getAttribute("data-local-datetime"));
		if (!isNaN(t)) {
			el.textContent = t.toLocaleString([], { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" });
		}
	});

	// At zero, the sentence around a countdown (data-countdown) becomes
	// its end: "Expired — get a new one", with a link that fetches the
	// page again (GET).
	function expire(el) {
		var box = el.closest("[data-countdown]");
		if (!box) {
			el.textContent = "0:00";
			return;
		}
		var link = document.createElement("a");
		link.href = window.location.pathname;
		link.textContent = box.getAttribute("data-countdown-link") || "get a new one";
		box.textContent = (box.getAttribute("data-countdown") || "Expired —") + " ";
		box.appendChild(link);
	}

	var counters = Array.from(document.querySelectorAll("[data-remaining]"));
	function tick() {
		var gone = (Date.now() - loaded) / 1000;
		counters = counters.filter(function (el) {
			var left = Math.round(Number(el.getAttribute("data-remaining")) - gone);
			if (left > 0) {
				el.textContent = format(left);
				return true;
			}
			expire(el);
			return false;
		});
	}
	if (counters.length > 0) {
		tick();
		setInterval(tick, 1000);
	}

	var poller = document.querySelector("[data-poll]");
	if (!poller) {
		return;
	}
	var url = poller.getAttribute("data-poll");
	var statusEl = document.getElementById(poller.getAttribute("data-status-el") || "");

	var leave = poller.getAttribute("data-leave");
	if (leave && navigator.sendBeacon) {
		window.addEventListener("pagehide", function () {
			var form = document.getElementById(poller.getAttribute("data-finish") || "");
			var csrf = form && form.elements.namedItem("csrf");
			if (csrf) {
				navigator.sendBeacon(leave, new URLSearchParams({ csrf: csrf.value, page: poller.getAttribute("data-leave-page") || "" }));
			}
		});
	}

	function submit(attr) {
		var form = document.getElementById(poller.getAttribute(attr) || "");
		if (form) {
			form.submit();
		} else {
			again();
		}
	}

	function poll() {
		fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
			.then(function (resp) {
				if (!resp.ok && resp.status !== 401) {
					throw new Error("status " + resp.status);
				}
				return resp.json();
			})
			.then(function (reply) {
				if (statusEl && reply.message) {
					statusEl.textContent = reply.message;
				}
				switch (reply.action) {
				case "finish":
					submit("data-finish");
					return;
				case "fallback":
					submit("data-fallback");
					return;
				case "reload":
					again();
					return;
				}
				setTimeout(poll, 1500);
			})
			.catch(function () {
				setTimeout(poll, 5000);
			});
	}
	setTimeout(poll, 1000);
})();
