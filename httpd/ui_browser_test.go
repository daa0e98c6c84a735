package httpd_test

// Browser tests: the embedded dashboard in real headless Chromium (Debian's
// chromium package), against the real handler and a real SQLite store.
// They skip where Chromium is missing; .ci/run installs it.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sparkq/sparkq/httpd"
)

// chromiumPath finds the browser, or skips the test.
func chromiumPath(t testing.TB) string {
	t.Helper()
	path := os.Getenv("SPARKQ_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium at %s: install the Debian package chromium (apt-get install chromium) or set SPARKQ_CHROMIUM", path)
		if os.Getenv("SPARKQ_BROWSER_TESTS") == "required" { // .ci/run
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return path
}

// testOutDir is where screenshots go: $SPARKQ_TESTOUT, else testout/ui at
// the repository root (git-ignored).
func testOutDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SPARKQ_TESTOUT")
	if dir == "" {
		dir = filepath.Join("..", "testout", "ui")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium with one tab. It records what must
// never happen on the page: uncaught exceptions, console errors (CSP
// violations are reported there) and JavaScript dialogs (an alert() that
// ran would be an XSS).
type browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newBrowser(t testing.TB) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(f string, args ...any) { t.Logf("chromedp: "+f, args...) }))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}

	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" || m.Type == "assert" {
				b.problem(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m, m.URL, m.Line+1))
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.problem(fmt.Sprintf("a JavaScript %s dialog opened: %q", ev.Type, ev.Message))
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	return b
}

func (b *browser) problem(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, p)
}

// noProblems fails the test with whatever went wrong on the page so far;
// allow lists substrings of expected console errors (a failed request the
// test caused on purpose is logged by Chromium).
func (b *browser) noProblems(allow ...string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
next:
	for _, p := range b.problems {
		for _, a := range allow {
			if strings.Contains(p, a) {
				continue next
			}
		}
		b.t.Errorf("page problem: %s", p)
	}
	b.problems = nil
}

// do runs actions with a bound, so a broken page fails instead of hanging.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds (within a bound that
// catches a hang, not a slow machine).
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("(() => { try { return !!("+cond+"); } catch (e) { return false; } })()", chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		state, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.pathname + location.search + " | " + (document.querySelector('main') || document.body).innerText.slice(0, 5000)`))
		b.t.Fatalf("waiting for %s (%s): %v\npage: %s", what, cond, err, state)
	}
}

// fill sets a form control's value the way typing would, firing input.
func (b *browser) fill(selector, value string) {
	b.t.Helper()
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	ok := eval[bool](b, fmt.Sprintf(`(() => { const el = document.querySelector(%s); if (!el) return false;
		el.value = %s; el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, val))
	if !ok {
		b.t.Fatalf("no element %s to fill", selector)
	}
}

func (b *browser) click(what, selector string) {
	b.t.Helper()
	b.do("click "+what, chromedp.Click(chromedp.CSS(selector)))
}

// screenshot saves the whole page, or with a selector one element, as PNG.
func (b *browser) screenshot(name string, selector ...string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	shot := chromedp.FullScreenshot(100)
	if len(selector) > 0 {
		shot = chromedp.Screenshot(chromedp.CSS(selector[0]))
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(testOutDir(b.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// allLabelled fails the test for form controls without an accessible name.
func (b *browser) allLabelled(where string) {
	b.t.Helper()
	unlabelled := eval[[]string](b, `[...document.querySelectorAll('input, select, textarea')]
		.filter(el => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
		.map(el => el.outerHTML.slice(0, 120))`)
	for _, u := range unlabelled {
		b.t.Errorf("%s: form control without a label: %s", where, u)
	}
}

// js quotes a Go string for a JavaScript expression (or JSON), leaving
// <, > and & as they are.
func js(s string) string {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(buf.String(), "\n")
}

// taskRow is the selector of a task's row in the task table.
func taskRow(id string) string { return fmt.Sprintf(`tbody tr[data-id=%s]`, js(id)) }

const xssPayload = `<img src=x onerror=alert(1)>`

// The main path: create a session and a queue, add a task, watch a claim
// made outside the browser arrive live, complete it and see the progress
// bar move, archive and unarchive, switch theme and keep it over a reload;
// and markup in user data stays text.
func TestBrowserMainPath(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	b := newBrowser(t)

	b.do("open the dashboard", chromedp.Navigate(ls.url+"/"))
	b.waitFor("the redirect to /ui/", `location.pathname === '/ui/'`)
	b.waitFor("the first data render", `document.documentElement.dataset.ready === 'true'`)
	b.waitFor("the live stream", `document.getElementById('live').dataset.state === 'live'`)
	b.waitFor("the empty state", `document.querySelector('.empty-state') && !document.querySelector('.empty-state').hidden`)

	// Create a session, then a queue in it, through the forms.
	b.fill(`form.new-session input[name=name]`, "Backend rework")
	b.click("create session", `form.new-session button[type=submit]`)
	b.waitFor("the session in the queue form", `[...document.querySelectorAll('form.new-queue select[name=session_id] option')].some(o => o.textContent === 'Backend rework' && o.selected)`)
	b.fill(`form.new-queue input[name=name]`, "<b>api</b>")
	b.click("create queue", `form.new-queue button[type=submit]`)
	b.waitFor("the new queue's page", `/^\/ui\/queues\/que_[0-9a-f]{12}$/.test(location.pathname) && document.getElementById('queue-title')`)
	queueID := eval[string](b, `location.pathname.split('/').pop()`)
	if title := eval[string](b, `document.getElementById('queue-title').textContent`); title != "<b>api</b>" {
		t.Errorf("queue title %q: markup in the name must show as text", title)
	}
	if n := eval[int](b, `document.querySelectorAll('main b').length`); n != 0 {
		t.Errorf("%d <b> elements: a queue name was parsed as HTML", n)
	}

	// An API error shows next to the action that caused it: a second queue
	// of the same name in the same session is refused.
	b.fill(`form.new-queue input[name=name]`, "<b>api</b>")
	b.click("create duplicate queue", `form.new-queue button[type=submit]`)
	b.waitFor("the error next to the form", `/Queue name must be unique/.test(document.querySelector('form.new-queue .error').textContent)`)

	// Add a task whose payload holds markup, with the JSON task form.
	b.click("the task tab", `#tab-task`)
	b.waitFor("the task form", `!document.getElementById('panel-task').hidden && document.querySelector('form.add-task select[name=tool_name] option[value="run-bash"]')`)
	b.fill(`form.add-task textarea[name=payload]`, fmt.Sprintf(`{"prompt": %s}`, js(xssPayload)))
	b.click("add task", `form.add-task button[type=submit]`)
	b.waitFor("the queued task row", `document.querySelectorAll('tbody tr[data-status=queued]').length === 1`)
	taskID := eval[string](b, `document.querySelector('tbody tr[data-status=queued]').dataset.id`)
	if got := eval[string](b, `document.querySelector(`+js(taskRow(taskID)+` td.preview`)+`).textContent`); got != xssPayload {
		t.Errorf("preview %q, want the payload's prompt as text", got)
	}
	if n := eval[int](b, `document.querySelectorAll('main img, dialog img').length`); n != 0 {
		t.Errorf("%d <img> elements in the page: the payload was parsed as HTML", n)
	}
	b.waitFor("progress 0 of 1", `(() => { const p = document.querySelector('.panel-head [role=progressbar]'); return p.getAttribute('aria-valuenow') === '0' && p.getAttribute('aria-valuemax') === '1'; })()`)

	// Claim it from outside the browser: the row turns running without a
	// reload (the marker would not survive one).
	eval[bool](b, `(window.__noReload = true)`)
	ls.call("POST", "/api/tasks/"+taskID+"/claim", map[string]any{"worker_id": "outside"}, 200)
	b.waitFor("the row to turn running", `document.querySelector(`+js(taskRow(taskID)+`[data-status=running]`)+`) !== null`)
	if !eval[bool](b, `window.__noReload === true`) {
		t.Fatal("the page reloaded to show the claim")
	}

	// Open the task (keyboard: focus its link, Enter), read its details,
	// and complete it from the dialog.
	b.do("focus the task link", chromedp.Focus(chromedp.CSS(taskRow(taskID)+` a.task-link`)))
	b.do("open the task", chromedp.KeyEvent(kb.Enter))
	b.waitFor("the task dialog", `document.getElementById('task-dialog').open && location.pathname === '/ui/tasks/`+taskID+`'`)
	if got := eval[string](b, `document.querySelector('#task-dialog pre.block').textContent`); !strings.Contains(got, xssPayload) {
		t.Errorf("payload block %q lacks the raw prompt text", got)
	}
	b.fill(`form.complete-task input[name=result_summary]`, "Done <script>alert(2)</script>")
	b.click("complete", `form.complete-task button[type=submit]`)
	b.waitFor("the task to succeed", `document.querySelector('#task-dialog .pill').textContent === 'succeeded'`)
	b.waitFor("the progress bar to move to 1 of 1", `(() => { const p = document.querySelector('.panel-head [role=progressbar]'); return p.getAttribute('aria-valuenow') === '1' && p.querySelector('.seg-ok').style.width === '100%'; })()`)
	b.waitFor("the queue list's bar too", `document.querySelector('.queue-link[aria-current=true] [role=progressbar]').getAttribute('aria-valuenow') === '1'`)
	if !eval[bool](b, `[...document.querySelectorAll('#task-dialog pre.block')].some(p => p.textContent === 'Done <script>alert(2)</script>')`) {
		t.Error("the result summary is not shown as text")
	}
	b.screenshot("task-dialog-light.png", "#task-dialog")
	b.do("close the dialog", chromedp.KeyEvent(kb.Escape))
	b.waitFor("back on the queue", `!document.getElementById('task-dialog').open && location.pathname === '/ui/queues/`+queueID+`'`)

	// Archive and unarchive.
	b.click("archive", `.panel-head [data-action=archive]`)
	b.waitFor("the archived queue", `document.querySelector('.panel-head .pill').textContent === 'archived' && document.querySelector('.panel-head [data-action=unarchive]') && document.querySelector('[aria-label="Add a task"]').hidden`)
	b.click("unarchive", `.panel-head [data-action=unarchive]`)
	b.waitFor("the queue back", `document.querySelector('.panel-head [data-action=archive]') && !document.querySelector('[aria-label="Add a task"]').hidden`)

	// Fill the queue a little for the screenshots, from outside.
	for i, prompt := range []string{
		"Add pagination to GET /users and cover it with tests",
		"Refactor the session store to use context deadlines",
		"Write the migration notes for the 2.0 release",
		"Investigate the flaky TestClaimRace on arm64",
		"Summarise yesterday's incident for the team channel",
		"Bump the SQLite driver and rerun the benchmarks",
	} {
		id := ls.call("POST", "/api/tasks", map[string]any{"queue_id": queueID, "tool_name": "llm-haiku", "prompt": prompt}, 200)["task"].(map[string]any)["id"].(string)
		switch {
		case i < 3:
			ls.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
			ls.call("POST", "/api/tasks/"+id+"/complete", map[string]any{"result_summary": "ok"}, 200)
		case i == 3:
			ls.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
			ls.call("POST", "/api/tasks/"+id+"/fail", map[string]any{"error_message": "timeout in CI"}, 200)
		case i == 4:
			ls.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
		}
	}
	other := ls.fixture("docs")
	ls.call("POST", "/api/tasks", map[string]any{"queue_id": other, "tool_name": "run-bash", "prompt": "make docs"}, 200)
	// Quick add, from the keyboard: type a prompt, Enter adds it.
	b.click("the quick add tab", `#tab-quick`)
	b.do("type a prompt", chromedp.SendKeys(chromedp.CSS(`form.quick-add textarea[name=prompt]`), "Draft the release announcement"))
	b.do("press Enter", chromedp.KeyEvent(kb.Enter))
	b.waitFor("the quick-added task", `[...document.querySelectorAll('tbody tr[data-id] td.preview')].some(td => td.textContent.includes('Draft the release announcement')) && document.querySelector('form.quick-add textarea').value === ''`)
	b.allLabelled("dashboard")
	b.waitFor("all eight tasks listed", `document.querySelectorAll('tbody tr[data-id]').length === 8 && document.querySelectorAll('.queue-link').length === 2`)
	b.waitFor("the chart to show the completions", `/4 succeeded, 1 failed/.test(document.querySelector('svg.chart').getAttribute('aria-label'))`)

	// The theme follows the system (light here) until toggled; the choice
	// survives a reload.
	if theme := eval[string](b, `document.getElementById('theme-toggle').dataset.theme`); theme != "light" {
		t.Errorf("initial theme %q, want light (the headless default)", theme)
	}
	light := b.screenshot("dashboard-light.png")
	b.click("theme toggle", `#theme-toggle`)
	b.waitFor("dark theme", `document.documentElement.dataset.theme === 'dark'`)
	b.do("reload", chromedp.Reload())
	b.waitFor("the reloaded page", `document.documentElement.dataset.ready === 'true' && document.querySelectorAll('tbody tr[data-id]').length === 8`)
	if got := eval[string](b, `document.documentElement.dataset.theme + ' ' + getComputedStyle(document.body).backgroundColor`); got != "dark rgb(15, 17, 23)" {
		t.Errorf("after reload: theme and background %q, want dark rgb(15, 17, 23)", got)
	}
	b.waitFor("the chart after reload", `document.querySelector('svg.chart')`)
	dark := b.screenshot("dashboard-dark.png")
	b.click("theme toggle", `#theme-toggle`)
	b.waitFor("light theme", `document.documentElement.dataset.theme === 'light'`)
	t.Logf("screenshots: %s, %s", light, dark)

	b.noProblems("status of 400", "status of 409") // the duplicate queue, on purpose
}

// Deep links survive a reload: a task's page opens its dialog over its
// queue, and a queue's page keeps its status filter.
func TestBrowserDeepLinks(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	qid := ls.fixture("deep")
	var ids []string
	for i := 0; i < 30; i++ {
		task := ls.call("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": fmt.Sprintf("task %02d", i)}, 200)["task"].(map[string]any)
		ids = append(ids, task["id"].(string))
	}
	ls.call("POST", "/api/tasks/"+ids[3]+"/claim", nil, 200)
	b := newBrowser(t)

	b.do("open a task link", chromedp.Navigate(ls.url+"/ui/tasks/"+ids[3]))
	b.waitFor("the task dialog over its queue", `document.getElementById('task-dialog').open && /task 03/.test(document.querySelector('#task-dialog pre.block').textContent) && document.getElementById('queue-title') && document.getElementById('queue-title').textContent === 'deep'`)
	b.do("reload", chromedp.Reload())
	b.waitFor("the same dialog after reload", `document.getElementById('task-dialog').open && document.querySelector('#task-dialog .pill').textContent === 'running'`)

	// Pages come from the server, 25 at a time.
	b.do("open the queue", chromedp.Navigate(ls.url+"/ui/queues/"+qid))
	b.waitFor("the first page", `document.querySelectorAll('tbody tr[data-id]').length === 25 && /1–25 of 30/.test(document.querySelector('nav[aria-label="Task pages"] .range').textContent)`)
	b.click("next page", `nav[aria-label="Task pages"] button:last-child`)
	b.waitFor("the second page", `document.querySelectorAll('tbody tr[data-id]').length === 5 && location.search === '?offset=25'`)
	b.click("running filter", `input[name=status][value=running]`)
	b.waitFor("the filtered list", `location.search === '?status=running' && document.querySelectorAll('tbody tr[data-id]').length === 1`)
	b.do("reload", chromedp.Reload())
	b.waitFor("the filter after reload", `document.querySelector('input[name=status][value=running]').checked && document.querySelectorAll('tbody tr[data-id]').length === 1`)

	b.do("open settings", chromedp.Navigate(ls.url+"/ui/settings/task-classes"))
	b.waitFor("the task classes tab", `document.getElementById('tab-task-classes').getAttribute('aria-selected') === 'true' && document.querySelectorAll('[role=tabpanel] tbody tr').length >= 4`)
	b.allLabelled("settings")
	// Tabs move with the arrow keys, and the address follows.
	b.do("focus the tab", chromedp.Focus(chromedp.CSS(`#tab-task-classes`)))
	b.do("previous tab", chromedp.KeyEvent(kb.ArrowLeft))
	b.waitFor("the tools tab", `document.activeElement.id === 'tab-tools' && location.pathname === '/ui/settings/tools' && document.querySelectorAll('[role=tabpanel] tbody tr').length >= 7`)
	b.do("open the queues page", chromedp.Navigate(ls.url+"/ui/queues"))
	b.waitFor("the queues table", `[...document.querySelectorAll('table.queues tbody tr')].some(r => r.textContent.includes('deep'))`)
	b.allLabelled("queues page")
	b.noProblems()
}

// The Queues page: rename and delete after confirmation.
func TestBrowserQueuesPage(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	qid := ls.fixture("old-name")
	b := newBrowser(t)
	b.do("open the queues page", chromedp.Navigate(ls.url+"/ui/queues"))
	row := `table.queues tr[data-id=` + js(qid) + `]`
	b.waitFor("the queue row", `document.querySelector(`+js(row)+`)`)
	b.click("rename", row+` [data-key^=rename]`)
	b.fill(row+` form.rename input`, "new-name")
	b.click("save", row+` form.rename button[type=submit]`)
	b.waitFor("the new name", `document.querySelector(`+js(row+` td a`)+`).textContent === 'new-name'`)
	b.screenshot("queues-light.png")

	b.click("delete", row+` [data-action=delete]`)
	b.waitFor("the confirmation", `document.querySelector('dialog.confirm[open]')`)
	b.do("cancel with Escape", chromedp.KeyEvent(kb.Escape))
	b.waitFor("no confirmation", `!document.querySelector('dialog.confirm')`)
	if !eval[bool](b, `document.querySelector(`+js(row)+`) !== null`) {
		t.Fatal("the queue went without confirmation")
	}
	b.click("delete", row+` [data-action=delete]`)
	b.waitFor("the confirmation", `document.querySelector('dialog.confirm[open]')`)
	b.click("confirm", `dialog.confirm .btn.danger`)
	b.waitFor("the row gone", `document.querySelector(`+js(row)+`) === null`)
	b.noProblems()
}

// The page follows the system's dark preference when nothing is saved.
func TestBrowserFollowsSystemTheme(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	b := newBrowser(t)
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	b.do("open the dashboard", chromedp.Navigate(ls.url+"/ui/"))
	b.waitFor("the page", `document.documentElement.dataset.ready === 'true'`)
	if got := eval[string](b, `(document.documentElement.dataset.theme || 'system') + ' ' + getComputedStyle(document.body).backgroundColor + ' ' + document.getElementById('theme-toggle').getAttribute('aria-label')`); got != "system rgb(15, 17, 23) Switch to light theme" {
		t.Errorf("with a dark system and no choice saved: %q", got)
	}
	b.noProblems()
}

// After a daemon restart the page reconnects by itself and shows changes
// made while and after it was down, without a reload.
func TestBrowserReconnectsAfterRestart(t *testing.T) {
	first := startLive(t, "127.0.0.1:0", nil)
	qid := first.fixture("restart")
	id := first.call("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": "survive a restart"}, 200)["task"].(map[string]any)["id"].(string)
	b := newBrowser(t)
	b.do("open the queue", chromedp.Navigate(first.url+"/ui/queues/"+qid))
	b.waitFor("live", `document.getElementById('live').dataset.state === 'live' && document.querySelector(`+js(taskRow(id))+`)`)
	eval[bool](b, `(window.__noReload = true)`)

	addr := strings.TrimPrefix(first.url, "http://")
	if err := first.stop(); err != nil {
		t.Fatalf("stop with the page connected: %v", err)
	}
	b.waitFor("the page to notice", `document.getElementById('live').dataset.state !== 'live'`)
	second := startLive(t, addr, first.store)
	b.waitFor("the page to reconnect", `document.getElementById('live').dataset.state === 'live'`)
	second.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
	b.waitFor("the claim after the restart", `document.querySelector(`+js(taskRow(id)+`[data-status=running]`)+`) !== null`)
	if !eval[bool](b, `window.__noReload === true`) {
		t.Fatal("the page reloaded")
	}
	// Failed requests while the daemon was down are logged by Chromium.
	b.noProblems("ERR_CONNECTION_REFUSED", "Failed to fetch", "ERR_EMPTY_RESPONSE")
}

// Settings: each tab loads from the API; an API refusal shows next to the
// action that caused it.
func TestBrowserSettings(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	b := newBrowser(t)

	b.do("open settings", chromedp.Navigate(ls.url+"/ui/settings"))
	b.waitFor("the tools", `[...document.querySelectorAll('[role=tabpanel] tbody td')].some(td => td.textContent === 'run-bash')`)

	b.click("task classes tab", `#tab-task-classes`)
	// LLM_LITE is used by the tool llm-haiku, so it cannot be deleted.
	inUse := `[...document.querySelectorAll('[role=tabpanel] tbody tr')].find(r => r.cells[0].textContent === 'LLM_LITE')`
	b.waitFor("the classes", inUse+` && location.pathname === '/ui/settings/task-classes'`)
	eval[bool](b, `(`+inUse+`.querySelector('button.danger').click(), true)`)
	b.waitFor("the confirmation", `document.querySelector('dialog.confirm[open]')`)
	b.click("confirm", `dialog.confirm .btn.danger`)
	b.waitFor("the refusal next to the class", `/^Error: .+/.test(`+inUse+`.querySelector('.error').textContent)`)

	b.click("prompts tab", `#tab-prompts`)
	b.waitFor("the prompt form", `document.querySelector('[role=tabpanel] form [name=command]')`)
	b.fill(`[role=tabpanel] form [name=command]`, "review")
	b.fill(`[role=tabpanel] form [name=label]`, "Review <em>this</em>")
	b.fill(`[role=tabpanel] form [name=template_text]`, "Review the diff.")
	b.click("add prompt", `[role=tabpanel] form button[type=submit]`)
	b.waitFor("the new prompt", `[...document.querySelectorAll('[role=tabpanel] tbody tr')].some(r => r.cells[0].textContent === '>review' && r.cells[1].textContent === 'Review <em>this</em>')`)

	b.click("purge tab", `#tab-purge`)
	b.waitFor("the purge setting", `document.querySelector('[role=tabpanel] [name=older_than_days]').value !== ''`)
	b.click("scripts tab", `#tab-scripts`)
	b.waitFor("the scripts table", `document.querySelector('[role=tabpanel] table tbody tr')`)
	b.allLabelled("settings")
	if msg := eval[string](b, `[...document.querySelectorAll('[role=tabpanel] .error')].map(e => e.textContent).join(' ')`); msg != "" {
		t.Errorf("the scripts tab shows an error: %s", msg)
	}
	b.noProblems("status of 409") // the refused delete, on purpose
}

// Many dashboard tabs share one event stream (a browser allows six
// connections per host over HTTP/1.1, and each stream holds one): all of
// them load and all of them see a change live.
func TestBrowserManyTabsShareOneStream(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	qid := ls.fixture("tabs")
	id := ls.call("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": "shared"}, 200)["task"].(map[string]any)["id"].(string)
	b := newBrowser(t)
	wait := func(tab context.Context, what, cond string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(tab, 30*time.Second)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("(() => { try { return !!("+cond+"); } catch (e) { return false; } })()", chromedp.WithPollingTimeout(25*time.Second))); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	var tabs []context.Context
	for i := 0; i < 8; i++ {
		tab, cancel := chromedp.NewContext(b.ctx)
		t.Cleanup(cancel)
		if err := chromedp.Do(tab, chromedp.Navigate(ls.url+"/ui/queues/"+qid)); err != nil {
			t.Fatal(err)
		}
		wait(tab, fmt.Sprintf("tab %d ready and live", i), `document.documentElement.dataset.ready === 'true' && document.getElementById('live').dataset.state === 'live'`)
		tabs = append(tabs, tab)
	}
	if n := ls.bus.Subscribers(); n != 1 {
		t.Errorf("%d event streams open for 8 tabs, want 1", n)
	}
	ls.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
	for i, tab := range tabs {
		wait(tab, fmt.Sprintf("tab %d to show the claim", i), `document.querySelector(`+js(taskRow(id)+`[data-status=running]`)+`) !== null`)
	}
	b.noProblems()
}

// With an API token (server.api_token_file) the page asks for it once,
// keeps it, and sends it on every request, the event stream included.
func TestBrowserAPIToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef-token"
	ls := startLive(t, "127.0.0.1:0", nil, func(c *httpd.Config) { c.APIToken = token })
	qid := ls.fixture("secret")
	id := ls.call("POST", "/api/tasks", map[string]any{"queue_id": qid, "tool_name": "run-bash", "prompt": "needs a token"}, 200)["task"].(map[string]any)["id"].(string)
	b := newBrowser(t)

	b.do("open the dashboard", chromedp.Navigate(ls.url+"/ui/queues/"+qid))
	b.waitFor("the token form", `document.querySelector('#banner form.token-form input[type=password]')`)
	b.allLabelled("token form")
	b.fill(`#banner input[name=token]`, token)
	b.click("use the token", `#banner button[type=submit]`)
	b.waitFor("the data and the stream", `document.querySelector(`+js(taskRow(id))+`) && document.getElementById('live').dataset.state === 'live' && !document.querySelector('#banner form')`)
	ls.call("POST", "/api/tasks/"+id+"/claim", nil, 200)
	b.waitFor("the claim, live", `document.querySelector(`+js(taskRow(id)+`[data-status=running]`)+`) !== null`)

	// Kept for the next visit; a #token= link also works and leaves no trace.
	b.do("reload", chromedp.Reload())
	b.waitFor("the page without asking", `document.documentElement.dataset.ready === 'true' && document.querySelector(`+js(taskRow(id))+`) && !document.querySelector('#banner form')`)
	eval[bool](b, `(localStorage.removeItem('sparkq.token'), true)`)
	b.do("open a token link", chromedp.Navigate(ls.url+"/ui/#token="+token))
	b.waitFor("the page, token taken from the link", `document.documentElement.dataset.ready === 'true' && location.hash === '' && localStorage.getItem('sparkq.token') === `+js(token))
	b.noProblems("status of 401") // the first, tokenless requests
}

// Found by a fresh user: a long session name in a select and an unbroken
// queue name pushed the page wider than the window; every quick-added row
// previewed as the queue's instructions; the queue pager showed with one
// page of queues.
func TestBrowserLongNamesAndPreviews(t *testing.T) {
	ls := startLive(t, "127.0.0.1:0", nil)
	long := strings.Repeat("very-long-session-name-", 8)
	sess := ls.call("POST", "/api/sessions", map[string]any{"name": long}, 200)["session"].(map[string]any)
	qname := "q-" + strings.Repeat("x", 190)
	q := ls.call("POST", "/api/queues", map[string]any{"session_id": sess["id"], "name": qname,
		"instructions": "Always the same queue instructions."}, 201)["queue"].(map[string]any)
	task := ls.call("POST", "/api/tasks/quick-add", map[string]any{"queue_id": q["id"], "mode": "llm", "prompt": "fix the login bug"}, 200)
	b := newBrowser(t)
	b.do("set a narrow window", chromedp.EmulateViewport(1024, 800))
	b.do("open the queue", chromedp.Navigate(ls.url+"/ui/queues/"+q["id"].(string)))
	b.waitFor("the task row", fmt.Sprintf(`!!document.querySelector(%s)`, js(taskRow(task["task_id"].(string)))))
	if wide := eval[bool](b, `document.documentElement.scrollWidth > window.innerWidth`); wide {
		t.Fatalf("page is %v px wide in a %v px window", eval[float64](b, `document.documentElement.scrollWidth`), eval[float64](b, `window.innerWidth`))
	}
	if got := eval[string](b, fmt.Sprintf(`document.querySelector(%s + ' td.preview').textContent`, js(taskRow(task["task_id"].(string))))); !strings.HasPrefix(got, "fix the login bug") {
		t.Fatalf("row preview %q, want the typed prompt first", got)
	}
	if shown := eval[bool](b, `[...document.querySelectorAll('.pager')].some(p => p.hidden && getComputedStyle(p).display !== 'none')`); shown {
		t.Fatal("a hidden pager is displayed")
	}
	b.noProblems()
}
