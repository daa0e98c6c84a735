package openapigen

// schemas are the named object shapes. Response objects list every key the
// daemon sends (object() marks them all required: keys are present, null
// when unknown); request bodies reject keys they do not list.
func schemas() m {
	nullStr := orNull(str())
	nullTime := orNull(timestamp())
	taskStatus := enum("queued", "running", "succeeded", "failed")

	task := m{
		"id":                     withDesc(str(), "tsk_ followed by 12 hex digits."),
		"queue_id":               str(),
		"queue_name":             withDesc(str(), "Name of the task's queue."),
		"tool_name":              str(),
		"task_class":             withDesc(str(), "Decides the default timeout."),
		"payload":                withDesc(str(), "The task's payload: a JSON object, as text."),
		"payload_data":           orNull(ref("PayloadData")),
		"agent_role_key":         withDesc(nullStr, "Stored role, else the payload's agent_role_key."),
		"agent_role_label":       nullStr,
		"agent_role_description": nullStr,
		"worker_id":              withDesc(nullStr, "Who claimed the task (stored)."),
		"metadata":               withDesc(orNull(typ("object")), "The payload's metadata object."),
		"status":                 taskStatus,
		"timeout":                withDesc(integer(), "Seconds a claim may run; a claim older than twice this is auto-failed."),
		"attempts":               withDesc(integer(), "Times the task was claimed."),
		"result":                 withDesc(nullStr, "result_data of the completion, else its summary."),
		"result_summary":         nullStr,
		"error":                  withDesc(nullStr, `"<error_type>: <error_message>" of the failure.`),
		"error_message":          withDesc(nullStr, "Same as error."),
		"auto_failed":            withDesc(boolean(), "The failure came from the stale-claim sweep (it can be reset)."),
		"stdout":                 nullStr,
		"stderr":                 nullStr,
		"created_at":             timestamp(),
		"updated_at":             timestamp(),
		"started_at":             nullTime,
		"claimed_at":             nullTime,
		"finished_at":            nullTime,
		"completed_at":           withDesc(nullTime, "finished_at of a succeeded task."),
		"failed_at":              withDesc(nullTime, "finished_at of a failed task."),
		"stale_warned_at":        nullTime,
		"friendly_id":            withDesc(str(), "Upper-cased queue name, a dash and the id's last 4 characters: BACK END-4e5f."),
		"prompt_preview":         withDesc(nullStr, "First non-empty of the payload's prompt, prompt_text, prompt_path."),
		"prompt":                 nullStr,
		"raw_prompt":             nullStr,
	}
	claimed := m{}
	for k, v := range task {
		claimed[k] = v
	}
	claimed["prompt_text"] = withDesc(nullStr, "The payload's prompt, for workers.")

	newTask := m{
		"queue_id":       str(),
		"tool_name":      str(),
		"task_class":     withDesc(str(), "Default: the tool's class."),
		"timeout":        m{"type": "integer", "minimum": 1, "maximum": 604800, "description": "Seconds; default: the task class's timeout."},
		"agent_role_key": str(),
		"payload":        withDesc(typ("object"), "The whole payload; not combined with prompt_path, metadata or prompt."),
		"prompt_path":    str(),
		"prompt":         str(),
		"metadata":       typ("object"),
	}

	prompt := m{
		"id":            withDesc(str(), "prm_ followed by 12 hex digits."),
		"command":       m{"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
		"label":         str(),
		"template_text": str(),
		"description":   nullStr,
		"category":      nullStr,
		"active":        m{"type": "integer", "enum": []int{0, 1}, "description": "1 when active (an integer, as the original sent it)."},
		"created_at":    timestamp(),
		"updated_at":    timestamp(),
	}
	promptSummary := m{}
	for k, v := range prompt {
		if k != "template_text" {
			promptSummary[k] = v
		}
	}

	queueStats := object(m{
		"total":    integer(),
		"queued":   integer(),
		"running":  integer(),
		"done":     withDesc(integer(), "Succeeded tasks."),
		"failed":   integer(),
		"progress": withDesc(str(), `"<done>/<total>"`),
	})

	return m{
		"Error": m{
			"type":                 "object",
			"description":          "The error envelope of every failed request.",
			"required":             []string{"error", "status"},
			"additionalProperties": false,
			"properties": m{
				"error":  m{"type": "string", "pattern": "^Error: ", "examples": []string{"Error: Task not found"}},
				"status": withDesc(integer(), "The HTTP status, repeated."),
			},
		},
		"Message": object(m{"message": str()}),
		"StatusMessage": object(m{
			"status":  enum("ok"),
			"message": str(),
		}),
		"Health": object(m{
			"status":    enum("ok"),
			"timestamp": timestamp(),
			"build_id":  str(),
		}),
		"Version": object(m{"build_id": str(), "timestamp": timestamp()}),
		"Counts": object(m{
			"sessions":      integer(),
			"queues":        integer(),
			"queued_tasks":  integer(),
			"running_tasks": integer(),
		}),
		"Session": object(m{
			"id":          withDesc(str(), "ses_ followed by 12 hex digits."),
			"project_id":  str(),
			"name":        str(),
			"description": nullStr,
			"status":      enum("active", "ended"),
			"started_at":  timestamp(),
			"ended_at":    nullTime,
			"created_at":  timestamp(),
			"updated_at":  timestamp(),
		}),
		"Queue": object(m{
			"id":                     withDesc(str(), "que_ followed by 12 hex digits."),
			"session_id":             str(),
			"name":                   withDesc(str(), "Unique within its session."),
			"instructions":           nullStr,
			"codex_session_id":       nullStr,
			"default_agent_role_key": nullStr,
			"model_profile":          nullStr,
			"state":                  withDesc(enum("active", "ended", "archived"), "Stored lifecycle."),
			"status":                 withDesc(enum("active", "planned", "idle", "ended", "archived"), "Displayed status: ended/archived, else active (a task runs), planned (tasks wait) or idle."),
			"stats":                  ref("QueueStats"),
			"llm_sessions":           withDesc(orNull(typ("object")), "LLM name → session entry."),
			"created_at":             timestamp(),
			"updated_at":             timestamp(),
		}),
		"QueueStats": queueStats,
		"Task":       withDesc(object(task), "A task as every task endpoint returns it (the original's TaskOut)."),
		"ClaimedTask": withDesc(object(claimed),
			"A task as claim endpoints return it: Task plus prompt_text."),
		"PayloadData": m{
			"type":        "object",
			"description": "The payload object with its well-known keys always present; other payload keys pass through.",
			"required": []string{"prompt", "raw_prompt", "prompt_path", "script_path", "args", "metadata",
				"queue_instructions", "agent_role_key", "agent_role_label", "agent_role_description", "mode"},
			"properties": m{
				"prompt":                 nullStr,
				"raw_prompt":             nullStr,
				"prompt_path":            nullStr,
				"script_path":            nullStr,
				"args":                   orNull(arrayOf(str())),
				"metadata":               orNull(typ("object")),
				"queue_instructions":     nullStr,
				"agent_role_key":         nullStr,
				"agent_role_label":       nullStr,
				"agent_role_description": nullStr,
				"mode":                   nullStr,
			},
			"additionalProperties": true,
		},
		"NewTask": input([]string{"queue_id", "tool_name"}, newTask),
		"TaskList": object(m{
			"tasks":         arrayOf(ref("Task")),
			"truncated":     withDesc(boolean(), "The limit was capped at max_limit, or more rows follow (see next_offset)."),
			"limit_applied": integer(),
			"max_limit":     withDesc(orNull(integer()), "1000 when the requested limit was capped, else null."),
			"next_offset":   withDesc(orNull(integer()), "Offset of the next page; null on the last page."),
		}),
		"AgentRole": object(m{
			"id":          integer(),
			"key":         str(),
			"label":       str(),
			"description": str(),
			"active":      boolean(),
			"created_at":  timestamp(),
			"updated_at":  timestamp(),
		}),
		"TaskClass": object(m{
			"name":        str(),
			"timeout":     withDesc(integer(), "Seconds."),
			"description": nullStr,
			"created_at":  timestamp(),
			"updated_at":  timestamp(),
		}),
		"Tool": object(m{
			"name":        str(),
			"description": nullStr,
			"task_class":  str(),
			"created_at":  timestamp(),
			"updated_at":  timestamp(),
		}),
		"Prompt":        object(prompt),
		"PromptSummary": withDesc(object(promptSummary), "A prompt template in lists: without template_text."),
		"AuditEntry": object(m{
			"id":         withDesc(str(), "audit_ followed by 12 hex digits."),
			"actor":      nullStr,
			"action":     withDesc(str(), "e.g. task.retry, config.update.purge.config"),
			"details":    withDesc(m{}, "Any JSON value, or null."),
			"created_at": timestamp(),
		}),
		"Config": m{
			"type":        "object",
			"description": "The merged configuration: sparkq.yml overlaid with values stored through PUT /api/config. purge and queue_runner show every key, each with the value in effect (stored, else sparkq.yml, else the default).",
			"properties": m{
				"server":   typ("object"),
				"database": typ("object"),
				"purge":    object(m{"older_than_days": withDesc(integer(), "Retention of finished tasks, in days.")}),
				"queue_runner": object(m{
					"poll_interval":              withDesc(integer(), "Seconds."),
					"auto_fail_interval_seconds": withDesc(integer(), "Seconds between stale-claim sweeps."),
					"base_url":                   withDesc(nullStr, "null: derived from the listen address."),
				}),
				"tools":          m{"type": "object", "additionalProperties": m{"type": "object", "properties": m{"description": nullStr, "task_class": str()}}},
				"task_classes":   m{"type": "object", "additionalProperties": m{"type": "object", "properties": m{"timeout": integer(), "description": nullStr}}},
				"ui":             m{"type": "object", "properties": m{"build_id": str()}},
				"features":       m{"type": "object", "properties": m{"flags": typ("object")}},
				"defaults":       m{"type": "object", "properties": m{"queue": typ("object"), "model": str()}},
				"stale_handling": typ("object"),
			},
		},
		"ScriptEntry": object(m{
			"path":        str(),
			"name":        str(),
			"description": nullStr,
			"inputs":      orNull(arrayOf(ref("ScriptIO"))),
			"outputs":     orNull(arrayOf(ref("ScriptIO"))),
			"tags":        arrayOf(str()),
			"timeout":     orNull(integer()),
			"task_class":  nullStr,
		}),
		"ScriptIO": object(m{"name": str(), "required": boolean(), "optional": boolean()}),
		"Throughput": object(m{
			"minutes":   integer(),
			"since":     timestamp(),
			"until":     timestamp(),
			"succeeded": integer(),
			"failed":    integer(),
			"buckets": arrayOf(object(m{
				"minute":    timestamp(),
				"succeeded": integer(),
				"failed":    integer(),
			})),
		}),
		"Event": m{
			"type":        "object",
			"description": "The data of one server-sent event; keys that do not apply are left out.",
			"required":    []string{"seq", "type", "time"},
			"properties": m{
				"seq":        integer(),
				"type":       withDesc(str(), "task.created, task.claimed, task.completed, task.failed, task.requeued, task.updated, task.stale, task.deleted, task.purged, queue.*, session.*, registry.changed, resync"),
				"id":         str(),
				"queue_id":   str(),
				"session_id": str(),
				"status":     str(),
				"count":      integer(),
				"time":       m{"type": "string", "format": "date-time"},
			},
		},
		"Lease": object(m{
			"task_id":      str(),
			"worker_id":    nullStr,
			"timeout":      withDesc(integer(), "Seconds."),
			"heartbeat_at": timestamp(),
			"stale_at":     withDesc(timestamp(), "When the task will be warned about as stale."),
			"auto_fail_at": withDesc(timestamp(), "When the stale sweep will fail it without another heartbeat."),
		}),
		"ControlStatus": object(m{
			"pid":             integer(),
			"version":         str(),
			"started_at":      m{"type": "string", "format": "date-time"},
			"uptime":          str(),
			"http_addr":       str(),
			"socket":          str(),
			"db_path":         str(),
			"config_file":     str(),
			"service_manager": str(),
			"counts":          ref("Counts"),
			"reaper":          withDesc(typ("object"), "The stale-claim and purge runner's counters."),
		}),
	}
}
