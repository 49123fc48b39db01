// Signoff progressive enhancement.
// The site works fully without JavaScript: nothing here is required.
(function () {
  "use strict";

  // Move focus to the error summary when a form comes back with errors,
  // so screen reader and keyboard users hear what went wrong first.
  var summary = document.querySelector(".govuk-error-summary");
  if (summary) {
    summary.focus();
  }

  // --- Drawn signature ------------------------------------------------------
  //
  // <div class="app-draw" data-module="app-draw" hidden>
  //   <label …>  <canvas class="app-draw__canvas">  <input type="hidden" id="drawn">
  //   <button type="button" class="app-draw__clear">
  // </div>
  //
  // The block is hidden in the markup and shown here, so a browser without
  // JavaScript (or without pointer events or canvas) never sees a box it
  // cannot use. Drawing is optional: the typed name is the signature, and a
  // keyboard user tabs past the canvas. On submit, and only when something
  // was drawn, the drawing goes into the hidden input as a PNG data URL.

  // The server refuses drawings over 300 KB; keep well under it.
  var MAX_PNG_BYTES = 280 * 1024;
  // The sharpest backing store we draw into, whatever the screen.
  var MAX_BACKING_WIDTH = 1200;
  // The exported image's width (the height follows the canvas's shape).
  var EXPORT_WIDTH = 900;

  function initDraw(box) {
    var canvas = box.querySelector(".app-draw__canvas");
    var input = box.querySelector('input[name="drawn"]');
    var clear = box.querySelector(".app-draw__clear");
    var form = box.closest ? box.closest("form") : null;
    if (!canvas || !input || !form || !canvas.getContext || !window.PointerEvent) {
      return; // stays hidden: the form works without it
    }
    var ctx = canvas.getContext("2d");
    if (!ctx) {
      return;
    }

    // Strokes are kept in CSS pixels divided by the canvas's CSS size
    // (0..1), so the drawing survives a resize or a phone being turned.
    var strokes = [];
    var current = null; // the stroke being drawn
    var activePointer = null;
    var cssWidth = 0;
    var cssHeight = 0;

    box.hidden = false;

    // The <label for> cannot name a canvas: name it here.
    var label = box.querySelector("label");
    if (label && !canvas.hasAttribute("aria-label")) {
      canvas.setAttribute("aria-label", label.textContent.replace(/\s+/g, " ").trim());
    }
    canvas.setAttribute("role", "img");

    function lineWidth() {
      // About 2.5px on a phone, thicker on a wide canvas.
      return Math.max(2.5, Math.min(4, cssWidth / 200));
    }

    function setStyle(c) {
      c.lineCap = "round";
      c.lineJoin = "round";
      c.strokeStyle = "#0b0c0c";
      c.fillStyle = "#0b0c0c";
    }

    // drawPiece draws stroke pts up to point k (k >= 1), smoothed with
    // quadratic curves through the midpoints; w and h scale the 0..1
    // coordinates to the context's units.
    function drawPiece(c, pts, k, w, h) {
      var a = pts[k - 1];
      var b = pts[k];
      var endX = (a.x + b.x) / 2 * w;
      var endY = (a.y + b.y) / 2 * h;
      c.beginPath();
      if (k === 1) {
        c.moveTo(a.x * w, a.y * h);
        c.lineTo(endX, endY);
      } else {
        var p = pts[k - 2];
        c.moveTo((p.x + a.x) / 2 * w, (p.y + a.y) / 2 * h);
        c.quadraticCurveTo(a.x * w, a.y * h, endX, endY);
      }
      c.stroke();
    }

    // drawEnd finishes a stroke: the last half segment, or a dot for a tap.
    function drawEnd(c, pts, w, h) {
      var n = pts.length;
      if (n === 1) {
        c.beginPath();
        c.arc(pts[0].x * w, pts[0].y * h, c.lineWidth / 2, 0, 2 * Math.PI);
        c.fill();
        return;
      }
      var a = pts[n - 2];
      var b = pts[n - 1];
      c.beginPath();
      c.moveTo((a.x + b.x) / 2 * w, (a.y + b.y) / 2 * h);
      c.lineTo(b.x * w, b.y * h);
      c.stroke();
    }

    function drawAll(c, w, h, widthScale) {
      setStyle(c);
      c.lineWidth = lineWidth() * widthScale;
      strokes.forEach(function (pts) {
        for (var k = 1; k < pts.length; k++) {
          drawPiece(c, pts, k, w, h);
        }
        if (pts !== current) {
          drawEnd(c, pts, w, h);
        }
      });
    }

    // resize matches the backing store to the canvas's size on screen
    // times the device pixel ratio (capped), then redraws.
    function resize() {
      var rect = canvas.getBoundingClientRect();
      if (!rect.width || !rect.height) {
        return;
      }
      cssWidth = rect.width;
      cssHeight = rect.height;
      var ratio = Math.min(window.devicePixelRatio || 1, MAX_BACKING_WIDTH / cssWidth);
      var bw = Math.max(1, Math.round(cssWidth * ratio));
      var bh = Math.max(1, Math.round(cssHeight * ratio));
      if (canvas.width !== bw || canvas.height !== bh) {
        canvas.width = bw;
        canvas.height = bh;
      }
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.setTransform(bw / cssWidth, 0, 0, bh / cssHeight, 0, 0);
      drawAll(ctx, cssWidth, cssHeight, 1);
    }

    function point(e) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width)),
        y: Math.min(1, Math.max(0, (e.clientY - rect.top) / rect.height))
      };
    }

    function add(e) {
      var p = point(e);
      var last = current[current.length - 1];
      // Skip points less than half a pixel apart: no visible change.
      if (Math.abs(p.x - last.x) * cssWidth < 0.5 && Math.abs(p.y - last.y) * cssHeight < 0.5) {
        return;
      }
      current.push(p);
      setStyle(ctx);
      ctx.lineWidth = lineWidth();
      drawPiece(ctx, current, current.length - 1, cssWidth, cssHeight);
    }

    canvas.addEventListener("pointerdown", function (e) {
      if (activePointer !== null || (e.pointerType === "mouse" && e.button !== 0)) {
        return;
      }
      if (cssWidth === 0) {
        resize();
      }
      e.preventDefault();
      activePointer = e.pointerId;
      if (canvas.setPointerCapture) {
        try {
          canvas.setPointerCapture(e.pointerId);
        } catch (err) { /* the pointer has gone already */ }
      }
      current = [point(e)];
      strokes.push(current);
    });

    canvas.addEventListener("pointermove", function (e) {
      if (e.pointerId !== activePointer || !current) {
        return;
      }
      e.preventDefault();
      // Every movement since the last frame, for smooth fast strokes.
      var events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
      if (!events.length) {
        events = [e];
      }
      for (var i = 0; i < events.length; i++) {
        add(events[i]);
      }
    });

    function end(e) {
      if (e.pointerId !== activePointer || !current) {
        return;
      }
      setStyle(ctx);
      ctx.lineWidth = lineWidth();
      drawEnd(ctx, current, cssWidth, cssHeight);
      current = null;
      activePointer = null;
      input.value = ""; // written again on submit
    }

    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    canvas.addEventListener("lostpointercapture", end);

    function clearDrawing() {
      strokes = [];
      current = null;
      activePointer = null;
      input.value = "";
      resize();
    }

    if (clear) {
      clear.addEventListener("click", function (e) {
        e.preventDefault();
        clearDrawing();
      });
    }

    // Delete or Backspace on the focused canvas clears it too.
    canvas.addEventListener("keydown", function (e) {
      if ((e.key === "Delete" || e.key === "Backspace") && strokes.length) {
        e.preventDefault();
        clearDrawing();
      }
    });

    // toPNG draws the strokes black on white at width (CSS shape kept).
    function toPNG(width) {
      var height = Math.max(1, Math.round(width * cssHeight / cssWidth));
      var out = document.createElement("canvas");
      out.width = width;
      out.height = height;
      var c = out.getContext("2d");
      c.fillStyle = "#ffffff";
      c.fillRect(0, 0, width, height);
      drawAll(c, width, height, width / cssWidth);
      return out.toDataURL("image/png");
    }

    form.addEventListener("submit", function () {
      if (!strokes.length || !cssWidth) {
        input.value = "";
        return;
      }
      var width = Math.min(EXPORT_WIDTH, Math.round(canvas.width) || EXPORT_WIDTH);
      var url = toPNG(width);
      // base64 carries 3 bytes in 4 characters.
      while ((url.length - url.indexOf(",") - 1) * 3 / 4 > MAX_PNG_BYTES && width > 150) {
        width = Math.round(width / 2);
        url = toPNG(width);
      }
      input.value = url.indexOf("data:image/png;base64,") === 0 ? url : "";
    });

    var pending = 0;
    window.addEventListener("resize", function () {
      if (current) {
        return; // not mid-stroke
      }
      window.cancelAnimationFrame(pending);
      pending = window.requestAnimationFrame(resize);
    });

    resize();
  }

  var boxes = document.querySelectorAll('[data-module="app-draw"]');
  for (var i = 0; i < boxes.length; i++) {
    initDraw(boxes[i]);
  }
})();
