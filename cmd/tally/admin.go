package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/tallyhq/tally/client"
	tallyv1 "github.com/tallyhq/tally/proto/tally/v1"
)

// adminFlags are the flags of cluster and jobs.
type adminFlags struct {
	conn connFlags
	json bool
}

func parseAdmin(name, synopsis string, args []string, e env) (adminFlags, []string, error) {
	fs := newFlagSet(name, synopsis)
	var f adminFlags
	f.conn.register(fs, defaultListen, "coordinator HOST[:PORT] (port "+defaultPort+" when not given)")
	fs.BoolVar(&f.json, "json", false, "print JSON: the API's messages with their proto field names, numbers as numbers, enums as lower-case words (one object per line)")
	rest, err := parse(fs, args, e.stdout)
	return f, rest, err
}

func runCluster(ctx context.Context, args []string, e env) error {
	f, rest, err := parseAdmin("cluster", "tally cluster [--json] [--coordinator HOST:PORT]", args, e)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, err := f.conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	resp, err := c.Workers(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printProto(e, resp)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tADDRESS\tCORES\tSTATE\tIN FLIGHT\tCHUNKS DONE\tREADS")
	var insecure []string
	for _, w := range resp.GetWorkers() {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n", w.GetName(), w.GetAddress(), w.GetCores(), w.GetState(), w.GetInFlight(), w.GetChunksDone(), reads(w))
		if w.GetInsecure() {
			insecure = append(insecure, w.GetName())
		}
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "%s; coordinator %s at %s\n", plural(len(resp.GetWorkers()), "worker"), resp.GetCoordinator(), f.conn.coordinator)
	if resp.GetSecurity() != "" {
		fmt.Fprintf(e.stdout, "security: %s\n", resp.GetSecurity())
	}
	if resp.GetInsecure() {
		fmt.Fprintln(e.stdout, "WARNING: the coordinator runs with --insecure: anyone who reaches it can join, read the text and change counts")
	}
	if len(insecure) > 0 {
		fmt.Fprintf(e.stdout, "WARNING: workers running with --insecure: %s\n", strings.Join(insecure, ", "))
	}
	return nil
}

// reads says what a worker reads by reference: its shared volume, S3, or
// "-" when everything is streamed to it.
func reads(w *tallyv1.Worker) string {
	var r []string
	if w.GetSharedRoot() != "" {
		r = append(r, w.GetSharedRoot())
	}
	if w.GetS3() {
		r = append(r, "s3")
	}
	if len(r) == 0 {
		return "-"
	}
	return strings.Join(r, ",")
}

func runJobs(ctx context.Context, args []string, e env) error {
	f, rest, err := parseAdmin("jobs", "tally jobs list|show ID|watch ID|cancel ID [--json] [--coordinator HOST:PORT]", args, e)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("give a subcommand: list, show ID, watch ID or cancel ID")
	}
	sub, ids := rest[0], rest[1:]
	if (sub == "list") != (len(ids) == 0) || len(ids) > 1 {
		return usagef("usage: tally jobs list | show ID | watch ID | cancel ID")
	}
	c, err := f.conn.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	switch sub {
	case "list":
		jobs, err := c.Jobs(ctx)
		if err != nil {
			return err
		}
		if f.json {
			return printProto(e, &tallyv1.ListJobsResponse{Jobs: jobs})
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tSTATE\tKIND\tDOCUMENTS\tBYTES\tCREATED\tERROR")
		for _, j := range jobs {
			kind := "count"
			if j.GetSpec().GetTop() != nil {
				kind = "top"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", j.GetId(), stateName(j.GetState()), kind, j.GetDocuments(),
				j.GetProgress().GetBytesReceived(), j.GetCreatedAt().AsTime().Local().Format(time.DateTime), j.GetError())
		}
		return tw.Flush()
	case "show":
		j, err := c.GetJob(ctx, ids[0])
		if err != nil {
			return err
		}
		return printProto(e, j)
	case "watch":
		return watchEnded(ctx, ids[0], c.WatchJob(ctx, ids[0], func(j *tallyv1.Job) {
			if f.json {
				printProto(e, j)
				return
			}
			p := client.ProgressFromProto(j.GetId(), j.GetProgress())
			fmt.Fprintf(e.stdout, "%s %s: %s\n", j.GetId(), stateName(j.GetState()), formatProgress(p, time.Since(j.GetCreatedAt().AsTime())))
			if msg := j.GetError(); msg != "" {
				fmt.Fprintf(e.stdout, "%s: %s\n", j.GetId(), msg)
			}
		}))
	case "cancel":
		j, err := c.CancelJob(ctx, ids[0])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "job %s: %s\n", j.GetId(), stateName(j.GetState()))
		return nil
	}
	return usagef("unknown jobs subcommand %q (list, show, watch, cancel)", sub)
}

// watchEnded says, when the watch was interrupted (Ctrl-C), that only the
// watching stopped: the job runs on, and how to stop it.
func watchEnded(ctx context.Context, id string, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("stopped watching job %s, which keeps running on the coordinator (tally jobs cancel %s stops it)", id, id)
	}
	return err
}

func stateName(s tallyv1.JobState) string {
	switch s {
	case tallyv1.JobState_JOB_STATE_RUNNING:
		return "running"
	case tallyv1.JobState_JOB_STATE_SUCCEEDED:
		return "succeeded"
	case tallyv1.JobState_JOB_STATE_FAILED:
		return "failed"
	case tallyv1.JobState_JOB_STATE_CANCELED:
		return "cancelled"
	}
	return "unknown"
}

func printProto(e env, m proto.Message) error { return writeMessage(e.stdout, m) }
