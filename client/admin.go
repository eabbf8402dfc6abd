package client

import (
	"context"

	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// Workers lists the coordinator's live workers.
func (c *Client) Workers(ctx context.Context) (*tallyv1.ListWorkersResponse, error) {
	resp, err := c.api.ListWorkers(ctx, &tallyv1.ListWorkersRequest{})
	return resp, typed(err)
}

// Jobs lists the jobs the coordinator remembers, newest first, following
// ListJobs's pages. Their targets are summarized (Job.targets_summarized):
// GetJob has a running job's.
func (c *Client) Jobs(ctx context.Context) ([]*tallyv1.Job, error) {
	var jobs []*tallyv1.Job
	req := &tallyv1.ListJobsRequest{}
	for {
		resp, err := c.api.ListJobs(ctx, req)
		if err != nil {
			return jobs, typed(err)
		}
		jobs = append(jobs, resp.GetJobs()...)
		if resp.GetNextPageToken() == "" {
			return jobs, nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// GetJob returns one job, with its result when it succeeded.
func (c *Client) GetJob(ctx context.Context, id string) (*tallyv1.Job, error) {
	resp, err := c.api.GetJob(ctx, &tallyv1.GetJobRequest{JobId: id})
	return resp.GetJob(), typed(err)
}

// CancelJob cancels a running job and returns its final snapshot.
func (c *Client) CancelJob(ctx context.Context, id string) (*tallyv1.Job, error) {
	resp, err := c.api.CancelJob(ctx, &tallyv1.CancelJobRequest{JobId: id})
	return resp.GetJob(), typed(err)
}

// WatchJob calls fn with each snapshot of the job until it ends; the last one has a final state.
func (c *Client) WatchJob(ctx context.Context, id string, fn func(*tallyv1.Job)) error {
	stream, err := c.api.WatchJob(ctx, &tallyv1.WatchJobRequest{JobId: id})
	if err != nil {
		return typed(err)
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return typed(err)
		}
		fn(m.GetJob())
		if m.GetJob().GetState() != tallyv1.JobState_JOB_STATE_RUNNING {
			return nil
		}
	}
}
