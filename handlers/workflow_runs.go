package handlers

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"fleetprompt/jobs/workflow"
	"fleetprompt/store"
)

// A workflow run's page (GET /workflows/runs/:id, live on run:<id>) and
// what owners and admins do to a run: retry from the failed steps,
// cancel, approve or reject a waiting approval.

// runStepView is one step of a run: its state, and what the definition
// the run started with says of it.
type runStepView struct {
	store.WorkflowStep
	Def       stepView
	DecidedBy string
}

// PostURL links to the post a directive step wrote, if it wrote one.
func (s runStepView) PostURL() string {
	var out struct {
		PostID   string `json:"post_id"`
		ThreadID string `json:"thread_id"`
	}
	if s.Kind != workflow.KindDirective || json.Unmarshal([]byte(s.Output), &out) != nil || !store.IsUUID(out.ThreadID) || !store.IsUUID(out.PostID) {
		return ""
	}
	return "/forums/t/" + out.ThreadID + "#post-" + out.PostID
}

// AwaitsDecision reports whether the step waits for a person's decision.
func (s runStepView) AwaitsDecision() bool {
	return s.Kind == workflow.KindApproval && s.Status == store.StepWaiting
}

type runData struct {
	Run     store.WorkflowRun
	Steps   []runStepView
	Trigger string // in words
	// TriggerURL opens what the trigger was about (a thread).
	TriggerURL  string
	TriggerData string // the template data of .trigger, as JSON
	IsAdmin     bool
	Seq         int64 // the page's live cursor
	Error       string
}

// Live reports whether the run may still change on its own.
func (d runData) Live() bool { return !d.Run.Finished() }

// CanRetry and CanCancel say which buttons an owner or admin gets.
func (d runData) CanRetry() bool  { return d.IsAdmin && d.Run.Status == store.RunFailed }
func (d runData) CanCancel() bool { return d.IsAdmin && !d.Run.Finished() }

func (h *Handler) workflowRun(c *gin.Context) error {
	return h.renderRun(c, http.StatusOK, "")
}
