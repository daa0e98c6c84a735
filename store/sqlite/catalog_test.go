package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sparkq/sparkq/store"
)

// configValue reads one stored row, failing when absent.
func configValue(t *testing.T, s *Store, ns, key string) string {
	t.Helper()
	rows, err := s.ListConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Namespace == ns && r.Key == key {
			return string(r.Value)
		}
	}
	t.Fatalf("config %s/%s not stored; rows %v", ns, key, rows)
	return ""
}

func wantErr(t *testing.T, err error, k store.Kind, msg string) {
	t.Helper()
	if store.KindOf(err) != k {
		t.Fatalf("err = %v (kind %v), want kind %v", err, store.KindOf(err), k)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("err = %q, want it to contain %q", err, msg)
	}
}

// GAP 30 and GAP 31: built-ins are seeded into a new database once; edits
// and deletions survive reopening, even when a table becomes empty.
func TestCatalogSeededOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "seed.db")
	seed := DefaultSeed()
	seed.Config = []store.ConfigEntry{
		{Namespace: "purge", Key: "config", Value: json.RawMessage(`{"older_than_days": 9}`)},
		{Namespace: "tools", Key: "all", Value: json.RawMessage(`{"ignored": {}}`)}, // mirrors come from the tables
	}
	s, err := Open(ctx, path, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	roles, _ := s.ListAgentRoles(ctx, false)
	prompts, _ := s.ListPrompts(ctx)
	if len(roles) != 40 || len(prompts) != 31 {
		t.Fatalf("seeded %d roles, %d prompts; want 40, 31", len(roles), len(prompts))
	}
	if v := configValue(t, s, "purge", "config"); v != `{"older_than_days":9}` {
		t.Fatalf("purge/config = %s", v)
	}
	if v := configValue(t, s, "tools", "all"); !strings.Contains(v, `"run-bash":{"task_class":"MEDIUM_SCRIPT"`) || strings.Contains(v, "ignored") {
		t.Fatalf("tools/all mirror = %s", v)
	}
	edited := "Mine now"
	if _, err := s.UpdateAgentRole(ctx, "backend_architect", store.AgentRoleUpdate{Label: &edited}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgentRole(ctx, "glue_coder"); err != nil {
		t.Fatal(err)
	}
	for _, p := range prompts {
		if err := s.DeletePrompt(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ResetConfig(ctx, "purge", "config", nil, "api"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, path, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := s.GetAgentRole(ctx, "backend_architect")
	if err != nil || r.Label != edited {
		t.Fatalf("edited role after reopen: %+v %v", r, err)
	}
	if _, err := s.GetAgentRole(ctx, "glue_coder"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted role came back: %v", err)
	}
	if prompts, _ := s.ListPrompts(ctx); len(prompts) != 0 {
		t.Fatalf("prompts reseeded after all were deleted: %d", len(prompts))
	}
	rows, _ := s.ListConfig(ctx)
	for _, row := range rows {
		if row.Namespace == "purge" || strings.HasPrefix(row.Namespace, "_") {
			t.Fatalf("row %s/%s listed after reopen", row.Namespace, row.Key)
		}
	}
}

func TestAgentRoles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	in := store.NewAgentRole{Key: " reviewer ", Label: " Reviewer ", Description: " Reviews. ", Active: true}
	r, err := s.CreateAgentRole(ctx, in)
	if err != nil || r.Key != "reviewer" || r.Label != "Reviewer" || r.Description != "Reviews." || !r.Active || r.ID == 0 {
		t.Fatalf("create: %+v %v", r, err)
	}
	_, err = s.CreateAgentRole(ctx, in)
	wantErr(t, err, store.KindConflict, "Agent role already exists: reviewer")
	for _, tc := range []struct {
		in  store.NewAgentRole
		msg string
	}{
		{store.NewAgentRole{Key: "  ", Label: "x", Description: "x"}, "key is required"},
		{store.NewAgentRole{Key: "k", Label: "\t", Description: "x"}, "label is required"},
		{store.NewAgentRole{Key: "k", Label: "x", Description: " "}, "description is required"},
		{store.NewAgentRole{Key: "a/b", Label: "x", Description: "x"}, "key must be"},
	} {
		_, err := s.CreateAgentRole(ctx, tc.in)
		wantErr(t, err, store.KindInvalid, tc.msg)
	}

	off := false
	if r, err = s.UpdateAgentRole(ctx, "reviewer", store.AgentRoleUpdate{Active: &off}); err != nil || r.Active {
		t.Fatalf("deactivate: %+v %v", r, err)
	}
	_, err = s.ResolveAgentRole(ctx, "reviewer", false)
	wantErr(t, err, store.KindInvalid, "Agent role 'reviewer' is not active")
	if got, err := s.ResolveAgentRole(ctx, " reviewer ", true); err != nil || got.Key != "reviewer" {
		t.Fatalf("resolve inactive allowed: %+v %v", got, err)
	}
	if got, err := s.ResolveAgentRole(ctx, "  ", false); got != nil || err != nil {
		t.Fatalf("blank key = %v %v, want no role", got, err)
	}
	_, err = s.ResolveAgentRole(ctx, "nobody", true)
	wantErr(t, err, store.KindInvalid, "Agent role not found: nobody")

	// GAP 32: a role that is a queue's default cannot be deleted.
	on := true
	s.UpdateAgentRole(ctx, "reviewer", store.AgentRoleUpdate{Active: &on})
	q := mustQueue(t, s, "q1")
	key := "reviewer"
	if _, err := s.UpdateQueue(ctx, q.ID, store.QueueUpdate{DefaultAgentRoleKey: &key}); err != nil {
		t.Fatal(err)
	}
	err = s.DeleteAgentRole(ctx, "reviewer")
	wantErr(t, err, store.KindConflict, `queue(s) "q1" (`+q.ID+`)`)
	clear := ""
	if q, err = s.UpdateQueue(ctx, q.ID, store.QueueUpdate{DefaultAgentRoleKey: &clear}); err != nil || q.DefaultAgentRoleKey != nil {
		t.Fatalf("clear default: %+v %v", q, err)
	}
	if err := s.DeleteAgentRole(ctx, "reviewer"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteAgentRole(ctx, "reviewer"), store.KindNotFound, "Agent role not found: reviewer")
}

func TestQueueRoleAndProfile(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	sess, _ := s.CreateSession(ctx, store.NewSession{Name: "s"})
	missing, profile := "nobody", "turbo"
	_, err := s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q", DefaultAgentRoleKey: &missing})
	wantErr(t, err, store.KindInvalid, "Agent role not found: nobody")
	_, err = s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q", ModelProfile: &profile})
	wantErr(t, err, store.KindInvalid, "Invalid model_profile. Must be one of: auto, haiku-only, codex-heavy, sonnet-orchestrated")

	role, empty, instr := "python_engineer", "", "be brief"
	q, err := s.CreateQueue(ctx, store.NewQueue{SessionID: sess.ID, Name: "q", DefaultAgentRoleKey: &role, ModelProfile: &empty, Instructions: &instr})
	if err != nil || *q.DefaultAgentRoleKey != role || *q.ModelProfile != "auto" {
		t.Fatalf("create: %+v %v", q, err)
	}
	heavy := "codex-heavy"
	q, err = s.UpdateQueue(ctx, q.ID, store.QueueUpdate{ModelProfile: &heavy, ClearInstructions: true})
	if err != nil || *q.ModelProfile != heavy || q.Instructions != nil || *q.DefaultAgentRoleKey != role {
		t.Fatalf("update: %+v %v", q, err)
	}
	_, err = s.UpdateQueue(ctx, "que_000000000000", store.QueueUpdate{DefaultAgentRoleKey: &missing})
	wantErr(t, err, store.KindNotFound, "Queue not found") // 404 before role validation
}

// GAP 15: a task_classes/all write that would drop a class in use changes
// nothing at all.
func TestConfigMirrorSyncIsAtomic(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	before, _ := s.ListTaskClasses(ctx)
	// Adds NEW and changes FAST_SCRIPT, then must fail dropping MEDIUM_SCRIPT (run-bash uses it).
	err := s.PutConfig(ctx, "task_classes", "all", json.RawMessage(`{"NEW":{"timeout":5},"FAST_SCRIPT":{"timeout":1}}`), "api")
	wantErr(t, err, store.KindConflict, "Cannot delete task_class in use by tools")
	after, _ := s.ListTaskClasses(ctx)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("partial write:\nbefore %v\nafter  %v", before, after)
	}
	if audit, _ := s.ListAudit(ctx, "config.", 10); len(audit) != 0 {
		t.Fatalf("failed write audited: %v", audit)
	}

	// A tool naming an unknown class: 404, nothing changed.
	err = s.PutConfig(ctx, "tools", "all", json.RawMessage(`{"a":{"task_class":"LLM_LITE"},"b":{"task_class":"NOPE"}}`), "api")
	wantErr(t, err, store.KindNotFound, "task_class 'NOPE' does not exist")
	if tools, _ := s.ListTools(ctx); len(tools) != 7 {
		t.Fatalf("tools changed: %v", tools)
	}

	// A good write replaces the set, keeps descriptions that were not given
	// and refreshes the registry used by enqueue.
	if _, err := s.PutTool(ctx, store.Tool{Name: "run-bash", TaskClass: "MEDIUM_SCRIPT", Description: ptr("Bash")}); err != nil {
		t.Fatal(err)
	}
	err = s.PutConfig(ctx, "tools", "all", json.RawMessage(`{"run-bash":{"task_class":"FAST_SCRIPT"},"new-tool":{"task_class":"LLM_LITE","description":"N"}}`), "api")
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := s.ListTools(ctx)
	if len(tools) != 2 || tools[1].Name != "run-bash" || *tools[1].Description != "Bash" || tools[1].TaskClass != "FAST_SCRIPT" {
		t.Fatalf("tools = %+v", tools)
	}
	task, err := s.Enqueue(ctx, store.NewTask{QueueID: mustQueue(t, s, "q").ID, ToolName: "new-tool"})
	if err != nil || task.TaskClass != "LLM_LITE" || task.Timeout != 480 {
		t.Fatalf("registry not refreshed: %+v %v", task, err)
	}
	if v := configValue(t, s, "tools", "all"); v != `{"new-tool":{"task_class":"LLM_LITE","description":"N"},"run-bash":{"task_class":"FAST_SCRIPT","description":"Bash"}}` {
		t.Fatalf("mirror = %s", v)
	}
	if audit, _ := s.ListAudit(ctx, "config.update.tools.all", 10); len(audit) != 1 {
		t.Fatalf("audit = %v", audit)
	}

	// Resetting task classes to a set without FAST_SCRIPT is refused while
	// run-bash uses it; with it, classes outside the set are dropped.
	err = s.ResetConfig(ctx, "task_classes", "all", json.RawMessage(`{"LLM_LITE":{"timeout":480,"description":null}}`), "api")
	wantErr(t, err, store.KindConflict, "FAST_SCRIPT is used by run-bash")
	err = s.ResetConfig(ctx, "task_classes", "all", json.RawMessage(`{"LLM_LITE":{"timeout":480,"description":null},"FAST_SCRIPT":{"timeout":120,"description":"Fast"}}`), "api")
	if err != nil {
		t.Fatal(err)
	}
	if classes, _ := s.ListTaskClasses(ctx); len(classes) != 2 || *classes[0].Description != "Fast" {
		t.Fatalf("classes after reset = %+v", classes)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTaskClassAndToolCRUD(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	c, err := s.CreateTaskClass(ctx, store.TaskClass{Name: "BATCH", Timeout: 60, Description: ptr("Batch jobs")})
	if err != nil || c.Timeout != 60 {
		t.Fatalf("create: %+v %v", c, err)
	}
	_, err = s.CreateTaskClass(ctx, store.TaskClass{Name: "BATCH", Timeout: 61})
	wantErr(t, err, store.KindConflict, "task_class 'BATCH' already exists")
	// PUT without description keeps it; "" clears it.
	if c, err = s.PutTaskClass(ctx, store.TaskClass{Name: "BATCH", Timeout: 90}); err != nil || c.Timeout != 90 || c.Description == nil || *c.Description != "Batch jobs" {
		t.Fatalf("put keeps description: %+v %v", c, err)
	}
	if c, _ = s.PutTaskClass(ctx, store.TaskClass{Name: "BATCH", Timeout: 90, Description: ptr("")}); c.Description != nil {
		t.Fatalf("put clears description: %+v", c)
	}
	_, err = s.CreateTool(ctx, store.Tool{Name: "batcher", TaskClass: "BATCH"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateTool(ctx, store.Tool{Name: "batcher", TaskClass: "BATCH"})
	wantErr(t, err, store.KindConflict, "tool 'batcher' already exists")
	wantErr(t, s.DeleteTaskClass(ctx, "BATCH"), store.KindConflict, "BATCH is used by batcher")
	if v := configValue(t, s, "task_classes", "all"); !strings.Contains(v, `"BATCH":{"timeout":90,"description":null}`) {
		t.Fatalf("mirror = %s", v)
	}
	if err := s.DeleteTool(ctx, "batcher"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTaskClass(ctx, "BATCH"); err != nil {
		t.Fatal(err)
	}
	if v := configValue(t, s, "task_classes", "all"); strings.Contains(v, "BATCH") {
		t.Fatalf("mirror kept deleted class: %s", v)
	}
	wantErr(t, s.DeleteTool(ctx, "batcher"), store.KindNotFound, "")
	wantErr(t, s.DeleteTaskClass(ctx, "BATCH"), store.KindNotFound, "")
	var actions []string
	audit, _ := s.ListAudit(ctx, "t", 50)
	for i := len(audit) - 1; i >= 0; i-- {
		actions = append(actions, audit[i].Action)
	}
	want := "task_class.create task_class.update task_class.update tool.create tool.delete task_class.delete"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit = %v, want %s", actions, want)
	}
}

// GAP 14: concurrent updates of different LLMs of one queue all survive.
func TestPutLLMSessionConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	q := mustQueue(t, s, "q")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entry := map[string]json.RawMessage{"session_id": json.RawMessage(fmt.Sprintf(`"s%d"`, i))}
			if _, err := s.PutLLMSession(ctx, q.ID, fmt.Sprintf("llm-%d", i), entry); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	raw, err := s.LLMSessions(ctx, q.ID)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 20 || m["llm-7"]["session_id"] != "s7" || m["llm-7"]["last_updated"] == nil {
		t.Fatalf("sessions = %s (%v)", raw, err)
	}
	got, _ := s.GetQueue(ctx, q.ID)
	if !json.Valid(got.LLMSessions) || !strings.Contains(string(got.LLMSessions), `"llm-19"`) {
		t.Fatalf("queue llm_sessions = %s", got.LLMSessions)
	}
	_, err = s.LLMSessions(ctx, "que_000000000000")
	wantErr(t, err, store.KindNotFound, "Queue not found") // GAP 62
	_, err = s.PutLLMSession(ctx, "que_000000000000", "x", nil)
	wantErr(t, err, store.KindNotFound, "Queue not found")
}

func TestPrompts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Options{})
	p, err := s.CreatePrompt(ctx, store.NewPrompt{Command: " my-cmd ", Label: " L ", TemplateText: " T ", Description: ptr("  ")})
	if err != nil || p.Command != "my-cmd" || p.Label != "L" || p.TemplateText != "T" || p.Description != nil || !bool(p.Active) || !strings.HasPrefix(p.ID, "prm_") {
		t.Fatalf("create: %+v %v", p, err)
	}
	_, err = s.CreatePrompt(ctx, store.NewPrompt{Command: "my-cmd", Label: "x", TemplateText: "x"})
	wantErr(t, err, store.KindConflict, "Prompt command 'my-cmd' already exists")
	_, err = s.UpdatePrompt(ctx, p.ID, store.PromptUpdate{Command: ptr("code-review")}) // a seeded one
	wantErr(t, err, store.KindConflict, "Prompt command 'code-review' already exists")
	off := false
	if p, err = s.UpdatePrompt(ctx, p.ID, store.PromptUpdate{Active: &off, Description: ptr("d")}); err != nil || bool(p.Active) || *p.Description != "d" {
		t.Fatalf("update: %+v %v", p, err)
	}
	b, _ := json.Marshal(p)
	if !strings.Contains(string(b), `"active":0`) {
		t.Fatalf("active not sent as 0: %s", b)
	}
	_, err = s.UpdatePrompt(ctx, "prm_000000000000", store.PromptUpdate{Label: ptr("x")})
	wantErr(t, err, store.KindNotFound, "Prompt prm_000000000000 not found")
}
