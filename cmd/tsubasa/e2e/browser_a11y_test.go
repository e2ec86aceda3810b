package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A11y checks the hosted page the browser shows (one with the layout's
// language switcher; the demo app and test servers are not ours) with the
// rules of the hosted pages, in the page itself: computed styles and real
// keyboard focus, as a member's browser has them. Shot runs it on every
// page a journey shoots. A failure lists the offending elements.
func (c *Chrome) A11y() {
	c.t.Helper()
	if !Value(c, chromedp.Evaluate[bool](`!!document.querySelector('header.site nav.lang')`)) {
		return
	}
	if problems := c.a11yProblems(); len(problems) > 0 {
		c.t.Errorf("accessibility of %s (%s):\n  %s", c.Location(), Value(c, chromedp.Evaluate[string](`document.title`)),
			strings.Join(problems, "\n  "))
	}
}

// a11yProblems runs the checks on the page the browser shows.
func (c *Chrome) a11yProblems() []string {
	c.t.Helper()
	problems := Value(c, chromedp.Evaluate[[]string](a11yScript(a11yPage)))
	// The tab behaves as the focused window of a member's browser, and one
	// real Tab makes focus keyboard focus, so the script's focus() calls
	// match :focus-visible as Tab would.
	c.cdpCall(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	})
	// Tab from the brand name (made focusable by script for the moment),
	// not from wherever focus was: from the last control Tab would leave
	// the page for the browser's own UI. It lands on the language switcher.
	c.Do(chromedp.Evaluate[chromedp.Void](`(function () { var b = document.querySelector('header.site .brand'); b.tabIndex = -1; b.focus(); })()`),
		chromedp.KeyEvent(kb.Tab))
	return append(problems, Value(c, chromedp.Evaluate[[]string](a11yScript(a11yFocus)))...)
}

// a11yScript wraps a check in a function with the shared helpers, so
// nothing leaks into the page's globals.
func a11yScript(body string) string { return "(function () {" + a11yLib + body + "})()" }

// a11yLib is shared by the checks: element descriptions for the failure
// list, visibility, names, and WCAG 2 relative luminance and contrast on
// computed colours, against the effective background (the backgrounds of
// the element and its ancestors, blended up to the first opaque one, over
// white).
const a11yLib = `
var describe = function (el) {
  var s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (el.getAttribute('name')) s += '[name="' + el.getAttribute('name') + '"]';
  if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
  var text = (el.textContent || el.value || '').replace(/\s+/g, ' ').trim();
  if (text) s += ' "' + text.slice(0, 48) + '"';
  return s;
};
var shown = function (el) {
  var cs = getComputedStyle(el);
  // The content of a closed <details> (the language menu) has boxes but
  // is not rendered (content-visibility): checkVisibility knows.
  if (el.checkVisibility && !el.checkVisibility()) return false;
  return cs.visibility !== 'hidden' && el.getClientRects().length > 0;
};
var nameOf = function (el) {
  var ids = (el.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean);
  var byIds = ids.map(function (id) { var e = document.getElementById(id); return e ? e.textContent : ''; }).join(' ').trim();
  if (byIds) return byIds;
  var label = (el.getAttribute('aria-label') || '').trim();
  if (label) return label;
  var walk = function (n) {
    if (n.nodeType === 3) return n.textContent;
    if (n.nodeType !== 1 || n.getAttribute('aria-hidden') === 'true') return '';
    if (n.tagName === 'IMG') return n.getAttribute('alt') || '';
    return Array.prototype.map.call(n.childNodes, walk).join('');
  };
  var text = walk(el).trim();
  if (text) return text;
  if (el.tagName === 'INPUT') return (el.value || '').trim();
  return (el.getAttribute('title') || '').trim();
};
var parseColour = function (c) {
  var m = /^rgba?\(([^)]+)\)$/.exec(c);
  if (!m) return null;
  var p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
};
var over = function (top, bottom) {
  var a = top.a;
  return {r: top.r * a + bottom.r * (1 - a), g: top.g * a + bottom.g * (1 - a), b: top.b * a + bottom.b * (1 - a), a: 1};
};
var backgroundOf = function (el) {
  var layers = [];
  for (var e = el; e; e = e.parentElement) {
    var c = parseColour(getComputedStyle(e).backgroundColor);
    if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
  }
  var bg = {r: 255, g: 255, b: 255, a: 1};
  for (var i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
  return bg;
};
var luminance = function (c) {
  var f = function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
};
var contrast = function (a, b) {
  var la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
};
var rgb = function (c) { return 'rgb(' + [c.r, c.g, c.b].map(Math.round).join(',') + ')'; };
`

// a11yPage is the static part: language, headings, names and labels,
// alerts, tab order, sideways scrolling and text contrast.
const a11yPage = `
var out = [];
var lang = document.documentElement.getAttribute('lang') || '';
if (!lang) out.push('<html> has no lang');
var current = document.querySelector('nav.lang [aria-current]');
if (!current) out.push('the language switcher marks no language as current');
else if (current.getAttribute('lang') !== lang) out.push('<html lang="' + lang + '"> but the switcher says ' + current.getAttribute('lang'));
if (!document.title.trim()) out.push('the page has no <title>');
var h1 = document.querySelectorAll('h1');
if (h1.length !== 1) out.push(h1.length + ' <h1> elements, want exactly one');
// The page's own words are in its language: the heading, labels and legends
// of an English page hold no Japanese (buttons and other text may carry
// names of members and apps), and a Japanese page's heading is Japanese.
var japanese = /[\u3040-\u30ff\u3400-\u9fff]/;
if (lang === 'ja' && h1[0] && !japanese.test(h1[0].textContent)) out.push('lang="ja" but the heading is not Japanese: ' + describe(h1[0]));
if (lang === 'en') document.querySelectorAll('h1, label, legend, summary, th').forEach(function (el) {
  if (!el.closest('[lang]:not(html)') && japanese.test(el.textContent)) out.push('lang="en" but Japanese text in ' + describe(el));
});
document.querySelectorAll('input, select, textarea').forEach(function (el) {
  if (el.type === 'hidden') return;
  var labelled = Array.prototype.some.call(el.labels || [], function (l) { return nameOf(l); }) ||
    (el.getAttribute('aria-label') || '').trim() || (el.getAttribute('aria-labelledby') && nameOf(el));
  if (!labelled) out.push('form field without a label: ' + describe(el));
});
document.querySelectorAll('img').forEach(function (el) {
  if (!el.hasAttribute('alt')) out.push('image without alt: ' + describe(el) + ' src=' + el.getAttribute('src'));
});
document.querySelectorAll('a[href], button, input[type=submit], input[type=button], [role=button], summary').forEach(function (el) {
  if (!nameOf(el)) out.push('no accessible name: ' + el.outerHTML.slice(0, 120));
});
var region = document.querySelector('main .alert');
if (!region) out.push('no error region (main .alert)');
else if (region.getAttribute('role') !== 'alert' && !region.hasAttribute('aria-live')) out.push('the error region has neither role=alert nor aria-live');
// An error on the page is announced (in a live region) or read with its
// field (aria-describedby).
var described = [];
document.querySelectorAll('[aria-describedby]').forEach(function (f) {
  f.getAttribute('aria-describedby').split(/\s+/).forEach(function (id) { var e = id && document.getElementById(id); if (e) described.push(e); });
});
document.querySelectorAll('.error').forEach(function (el) {
  if (!shown(el) || el.closest('[role=alert], [aria-live], [role=status]')) return;
  if (described.some(function (d) { return d.contains(el); })) return;
  out.push('an error neither announced nor tied to a field: ' + describe(el));
});
document.querySelectorAll('[tabindex]').forEach(function (el) {
  if (el.tabIndex > 0) out.push('positive tabindex: ' + describe(el));
});
var vw = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > vw) {
  var wide = Array.prototype.filter.call(document.body.querySelectorAll('*'), function (e) {
    var r = e.getBoundingClientRect();
    return r.width > 0 && r.right > vw + 0.5;
  });
  var leaves = wide.filter(function (e) { return !wide.some(function (w) { return w !== e && e.contains(w); }); });
  out.push('the page scrolls sideways at ' + vw + 'px (' + document.documentElement.scrollWidth + 'px wide): ' +
    leaves.slice(0, 6).map(describe).join('; '));
}
// Nothing sticks out of its card (a grid or flex row too wide for it).
document.querySelectorAll('.card').forEach(function (card) {
  var box = card.getBoundingClientRect();
  var outside = Array.prototype.filter.call(card.querySelectorAll('*'), function (e) {
    var r = e.getBoundingClientRect();
    return r.width > 0 && shown(e) && (r.right > box.right + 0.5 || r.left < box.left - 0.5);
  });
  var leaves = outside.filter(function (e) { return !outside.some(function (w) { return w !== e && e.contains(w); }); });
  if (leaves.length) out.push('sticks out of its card ' + describe(card).slice(0, 40) + ': ' + leaves.slice(0, 4).map(describe).join('; '));
});
// Text contrast: every shown element with text of its own, and every
// control, at least 4.5:1 (disabled controls are exempt in WCAG).
var seen = {};
document.body.querySelectorAll('*').forEach(function (el) {
  var own = Array.prototype.some.call(el.childNodes, function (n) { return n.nodeType === 3 && n.textContent.trim(); });
  var control = /^(INPUT|BUTTON|SELECT|TEXTAREA)$/.test(el.tagName) && el.type !== 'hidden' && el.type !== 'radio' && el.type !== 'checkbox';
  if (!(own || control) || !shown(el)) return;
  if (el.closest(':disabled') || (el.closest('label') && el.closest('label').control && el.closest('label').control.disabled)) return;
  var cs = getComputedStyle(el);
  var fg = parseColour(cs.color);
  if (!fg || parseFloat(cs.opacity) === 0) return;
  var bg = backgroundOf(el);
  fg = over(fg, bg);
  var ratio = contrast(fg, bg);
  if (ratio >= 4.5) return;
  var what = describe(el);
  var key = what.split(' ')[0] + rgb(fg) + rgb(bg);
  if (seen[key]) return;
  seen[key] = true;
  out.push('text contrast ' + ratio.toFixed(2) + ':1 (' + rgb(fg) + ' on ' + rgb(bg) + '), want 4.5:1: ' + what);
});
return out;
`

// a11yFocus spot-checks visible focus: the first controls in tab order and
// the first of each kind are focused in turn; each must draw an outline
// or a box shadow (on itself, or on its label where the control is
// visually hidden, as the pictogram radios are) whose colour stands out
// at 3:1 from what surrounds it (WCAG 1.4.11).
const a11yFocus = `
var out = [];
document.querySelector('header.site .brand').removeAttribute('tabindex');
if (!document.hasFocus()) return ['the page does not have focus: focus rings cannot be checked'];
if (!document.activeElement.closest('nav.lang')) out.push('Tab from the brand name reached ' + describe(document.activeElement) + ', not the language switcher');
var all = Array.prototype.filter.call(document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]'), function (el) {
  return el.type !== 'hidden' && !el.disabled && el.tabIndex >= 0 && (shown(el) || (el.closest('label') && shown(el.closest('label'))));
});
var pick = all.slice(0, 8);
['A', 'BUTTON', 'INPUT', 'SUMMARY', 'SELECT'].forEach(function (tag) {
  var first = all.filter(function (el) { return el.tagName === tag; })[0];
  if (first && pick.indexOf(first) < 0) pick.push(first);
});
// The ring is drawn on the control, or on the label of a hidden one.
var ringOf = function (el) {
  return parseFloat(getComputedStyle(el).opacity) === 0 && el.closest('label') ? el.closest('label') : el;
};
var look = function (el) {
  var cs = getComputedStyle(ringOf(el));
  return [cs.outlineStyle, cs.outlineWidth, cs.outlineColor, cs.boxShadow].join(' ');
};
// How each looks unfocused (the switcher link has the focus now), so that
// a shadow a control always has (a chosen pictogram's) is no focus ring.
var before = pick.map(function (el) { return el === document.activeElement ? null : look(el); });
pick.forEach(function (el, i) {
  el.focus();
  if (document.activeElement !== el) { out.push('cannot be focused: ' + describe(el)); return; }
  if (before[i] !== null && look(el) === before[i]) { out.push('focus does not change how it looks: ' + describe(el)); return; }
  var target = ringOf(el);
  var cs = getComputedStyle(target);
  var around = backgroundOf(target.parentElement || target);
  var ring = [];
  if (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) ring.push(parseColour(cs.outlineColor));
  if (cs.boxShadow && cs.boxShadow !== 'none') ring.push(parseColour((/rgba?\([^)]*\)/.exec(cs.boxShadow) || [''])[0]));
  ring = ring.filter(Boolean);
  if (!ring.length) { out.push('no visible focus (outline and box-shadow none): ' + describe(el)); return; }
  var best = Math.max.apply(null, ring.map(function (c) { return contrast(over(c, around), around); }));
  if (best < 3) out.push('focus ring contrast ' + best.toFixed(2) + ':1 against ' + rgb(around) + ', want 3:1: ' + describe(el));
});
if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
return out;
`

// TestBrowserA11yCheck: the check finds what it is for. Each rule is
// broken on purpose in a real login page (through the DOM: the CSP allows
// no inline style, but scripts may set styles) and must be reported with
// the element at fault.
func TestBrowserA11yCheck(t *testing.T) {
	s := devServer(t)
	c := NewChrome(t)
	c.Do(chromedp.Navigate(s.Issuer+"/demo/login"), waitURL(s.Issuer+"/login"), chromedp.WaitVisible(chromedp.CSS(`#member_number`)))
	if got := c.a11yProblems(); len(got) > 0 {
		t.Fatalf("the login page as served has problems:\n%s", strings.Join(got, "\n"))
	}
	c.Do(chromedp.Evaluate[chromedp.Void](`(function () {
  document.documentElement.lang = 'ja';
  var alert = document.querySelector('main .alert');
  alert.removeAttribute('role'); alert.removeAttribute('aria-live');
  document.querySelector('main').insertAdjacentHTML('beforeend',
    '<h1>Second</h1><input id="nolabel" type="text"><img id="noalt" src="/static/none.png">' +
    '<button id="noname"></button><a href="/x" id="jump" tabindex="3">x</a>' +
    '<p id="faint">faint</p><div id="wide">wide</div><p class="error" id="lonely">lost</p>');
  document.getElementById('faint').style.color = '#aaa';
  document.getElementById('wide').style.width = '3000px';
  var b = document.querySelector('button.primary');
  b.style.outline = 'none'; b.style.boxShadow = 'none';
})()`))
	got := strings.Join(c.a11yProblems(), "\n")
	for _, want := range []string{
		`<html lang="ja"> but the switcher says en`,
		`lang="ja" but the heading is not Japanese: h1 "Member login"`,
		`2 <h1> elements`,
		`form field without a label: input#nolabel`,
		`image without alt: img#noalt`,
		`no accessible name: <button id="noname">`,
		`positive tabindex: a#jump`,
		`want 4.5:1: p#faint`,
		`scrolls sideways`, `div#wide`,
		`error region has neither`,
		`neither announced nor tied to a field: p#lonely.error`,
		`focus does not change how it looks: button.primary`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the check does not report %q; it reports:\n%s", want, got)
		}
	}
}
