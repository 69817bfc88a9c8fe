# The worker service: the app's image running `worker` (python -m imageshare.worker).
# It receives jobs from the queue (queue.tf), reads the original from S3, writes the
# renditions, and marks the image ready (publishing the event through Redis). No load
# balancer and no ingress: it only calls out. Autoscaling follows the queue's backlog
# per task.

locals {
  # The worker's own values of the settings contract; everything else is the app's
  # (local.app_environment and its secrets). The app tasks leave these unset.
  worker_settings = {
    WORKER_CONCURRENCY   = tostring(var.worker_concurrency)
    WORKER_MEMORY_BUDGET = tostring(floor(var.worker_memory * 1048576 * var.worker_memory_budget_percent / 100))
    # Jobs under way get this long to finish after SIGTERM; the 10 seconds left before
    # ECS's SIGKILL (stopTimeout) are for handing the rest back to the queue.
    WORKER_SHUTDOWN_SECONDS = tostring(var.worker_stop_timeout_seconds - 10)
  }

  worker_environment = merge(local.app_environment, local.worker_settings)

  worker_container_environment = [
    for name, value in merge(var.extra_environment, local.worker_environment) : { name = name, value = value } if value != ""
  ]

  worker_settings_given = setunion(
    [for name, value in local.worker_environment : name if value != ""],
    local.app_secret_names,
  )
}

resource "aws_ecs_task_definition" "worker" {
  family                   = "${local.name}-worker"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.worker_cpu
  memory                   = var.worker_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.worker.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name        = "worker"
      image       = local.image
      essential   = true
      command     = ["worker"]
      environment = local.worker_container_environment
      # The same settings and secrets as the app: the worker loads the same Settings
      # (production refuses an incomplete configuration) and uses the database, the
      # bucket and Redis for events.
      secrets                = local.container_secrets
      readonlyRootFilesystem = false
      # On SIGTERM (scale-in, deployment) the worker stops receiving, lets the jobs in
      # hand finish for WORKER_SHUTDOWN_SECONDS, and hands the rest back to the queue
      # without spending their attempt. This is the time ECS gives it before SIGKILL; a
      # job killed then comes back when its lease runs out.
      stopTimeout = var.worker_stop_timeout_seconds
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.worker.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "worker"
        }
      }
    },
  ])

  lifecycle {
    precondition {
      condition     = length(setsubtract(local.app_setting_names, setunion(keys(local.worker_environment), local.app_secret_names))) == 0
      error_message = "Every setting of the contract must be given to the worker: missing ${join(", ", setsubtract(local.app_setting_names, setunion(keys(local.worker_environment), local.app_secret_names)))}."
    }
    precondition {
      condition     = length(setsubtract(keys(local.worker_settings), local.app_setting_names)) == 0
      error_message = "local.worker_settings may only set names of the settings contract."
    }
    precondition {
      condition     = alltrue([for name in concat(["JOBS_BACKEND", "SQS_QUEUE_URL", "JOB_LEASE_SECONDS"], keys(local.worker_settings)) : contains(local.worker_settings_given, name)])
      error_message = "The worker needs a value for JOBS_BACKEND, SQS_QUEUE_URL, JOB_LEASE_SECONDS and each of local.worker_settings."
    }
    precondition {
      condition     = length(setintersection(keys(var.extra_environment), local.app_setting_names)) == 0
      error_message = "extra_environment cannot set a variable of the settings contract: ${join(", ", setintersection(keys(var.extra_environment), local.app_setting_names))}."
    }
  }
}

resource "aws_ecs_service" "worker" {
  name            = "${local.name}-worker"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.worker.arn
  desired_count   = var.worker_min_count
  launch_type     = "FARGATE"
  # checkov:skip=CKV_AWS_332:LATEST is the current Fargate platform version; pinning an older one gains nothing.
  platform_version = "LATEST"

  # New tasks start before old ones stop; jobs in hand finish or are released within
  # stopTimeout.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  availability_zone_rebalancing      = "ENABLED"
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  # Tasks that exit or never reach RUNNING (a bad image, a setting the worker refuses)
  # stop the rollout and bring back the previous task definition.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.worker.id]
    assign_public_ip = false
  }

  lifecycle {
    # Autoscaling owns the number of tasks once the service exists.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_iam_role_policy.execution, aws_iam_role_policy.worker]
}

# --- Autoscaling on the backlog per task ----------------------------------------------
#
# Backlog per task = jobs waiting (ApproximateNumberOfMessagesVisible) / worker tasks
# running (Container Insights' RunningTaskCount); target tracking keeps it near
# var.worker_backlog_per_task_target: a backlog of 200 with a target of 20 asks for 10
# tasks. Jobs in progress are not waiting, so they are not counted.
#
# The minimum is at least one task: with none running the division has no value, and
# a target tracking policy does nothing on missing data, so a queue could fill with no
# one to scale out. (Scaling from zero would need a step scaling policy on the
# queue's depth alone, and the first job would wait for a task to start, a minute or
# more.)

resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.worker_min_count
  max_capacity       = max(var.worker_max_count, var.worker_min_count)
}

resource "aws_appautoscaling_policy" "worker_backlog" {
  name               = "${local.name}-worker-backlog-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value = var.worker_backlog_per_task_target
    # Out quickly (a task starts in about a minute); in slowly. A task that is
    # stopped finishes or releases its jobs first (stopTimeout).
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    customized_metric_specification {
      metrics {
        id          = "waiting"
        label       = "Jobs waiting in the queue"
        return_data = false

        metric_stat {
          stat = "Sum"

          metric {
            namespace   = "AWS/SQS"
            metric_name = "ApproximateNumberOfMessagesVisible"

            dimensions {
              name  = "QueueName"
              value = aws_sqs_queue.jobs.name
            }
          }
        }
      }

      metrics {
        id          = "running"
        label       = "Worker tasks running"
        return_data = false

        metric_stat {
          stat = "Average"

          metric {
            namespace   = "ECS/ContainerInsights"
            metric_name = "RunningTaskCount"

            dimensions {
              name  = "ClusterName"
              value = aws_ecs_cluster.main.name
            }

            dimensions {
              name  = "ServiceName"
              value = aws_ecs_service.worker.name
            }
          }
        }
      }

      metrics {
        id          = "backlog_per_task"
        label       = "Jobs waiting per worker task"
        expression  = "waiting / running"
        return_data = true
      }
    }
  }
}
