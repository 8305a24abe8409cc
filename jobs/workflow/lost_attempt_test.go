package workflow_test

import (
	"strings"
	"testing"
	"time"

	"fleetprompt/jobs/agent/llm/llmtest"
	"fleetprompt/store"
)

// An agent step whose execution's last attempt died with its worker (the
// kill loop of bench/workflows found it): the directive fails for good,
// and so do the execution and the step, so the run ends (failed, to be
// retried) instead of waiting for ever on a run nobody makes.
func TestAgentStepWhoseLastAttemptDiedFails(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{}) // the first answer never comes: its worker "dies" meanwhile
	defer close(gate)
	fake := llmtest.New(func(llmtest.Request) llmtest.Reply { return llmtest.Reply{Chunks: []string{"late"}, Gate: gate} })
	defer fake.Close()
	h := newHarness(t, fake)
	h.st.DB.MustExec(h.tn.SQL(`INSERT INTO {tenant}.agents (name, state) VALUES ('Ticket Manager', 'active')`))
	w := h.workflow("Answer", `{"trigger":{"signal":"member.added"},"steps":[
		{"id":"draft","agent":"ticket-manager","prompt":"Hello"},
		{"id":"post","needs":["draft"],"directive":"test.record","payload":{"note":"{{.steps.draft.output}}"}}]}`)
	h.emit("member.added", nil)
	run := h.waitRun(w, 1, store.RunRunning)
	var dirID string
	deadline := time.Now().Add(20 * time.Second)
	for len(fake.Requests()) == 0 || dirID == "" {
		if time.Now().After(deadline) {
			t.Fatal("the agent step's execution never reached the provider")
		}
		time.Sleep(20 * time.Millisecond)
		h.st.DB.Get(&dirID, h.tn.SQL(`SELECT e.directive_id::text FROM {tenant}.workflow_steps s
			JOIN {tenant}.agent_executions e ON e.id = s.execution_id WHERE s.run_id = $1 AND s.step_id = 'draft'`), run.ID)
	}
	// What a worker killed in the last attempt leaves, once the rescuer
	// has freed its job: the directive running on its last attempt, the
	// job available again.
	h.st.DB.MustExec(h.tn.SQL(`UPDATE {tenant}.directives SET attempt = max_attempts WHERE id = $1`), dirID)
	h.st.DB.MustExec(`UPDATE jobs SET state = 'available', attempted_by = 'dead', scheduled_at = now()
		WHERE kind = 'directive.execute' AND args->>'id' = $1`, dirID)
	run = h.waitRun(w, 1, store.RunFailed)
	steps := h.steps(run)
	if d := steps["draft"]; d.Status != store.StepFailed || !strings.Contains(d.Error, "stopped before it finished") {
		t.Errorf("draft %s: %q", d.Status, d.Error)
	}
	ex, _ := h.st.Execution(ctx, h.tn, steps["draft"].ExecutionID)
	if ex.Status != store.ExecFailed || !ex.FinishedAt.Valid {
		t.Errorf("execution %s, finished %v", ex.Status, ex.FinishedAt.Valid)
	}
	if steps["post"].Status != store.StepPending || len(h.effects()) != 0 {
		t.Errorf("post %s, effects %q", steps["post"].Status, h.effects())
	}
}
