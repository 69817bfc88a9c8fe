# The app on ECS Fargate: one cluster, the app service behind the load balancer, and a
# "migrate" task definition for `alembic upgrade head` (output migrate_command). The
# worker service, the same image running `worker`, is in worker.tf.
# The image's entrypoint takes one argument: `serve`, `migrate` or `worker`.

locals {
  # The settings contract (README "Settings", ../shared/DESIGN.md) plus the two
  # variables Reflex reads itself. Every name must be given below, either as a plain
  # value (app_environment) or from Secrets Manager (app_secret_names); the
  # precondition on the task definitions and tests/infra/test_terraform.py hold the
  # configuration to that.
  app_setting_names = [
    "IMAGESHARE_ENV",
    "PORT",
    "PUBLIC_URL",
    "SECRET_KEY",
    "DATABASE_URL",
    "STORAGE_BACKEND",
    "MEDIA_ROOT",
    "S3_BUCKET",
    "S3_REGION",
    "S3_ENDPOINT_URL",
    "CDN_BASE_URL",
    "CLOUDFRONT_KEY_PAIR_ID",
    "CLOUDFRONT_PRIVATE_KEY",
    "AUTH0_DOMAIN",
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
    "AUTH0_AUDIENCE",
    "AUTH0_ISSUER",
    "REDIS_URL",
    "MAX_UPLOAD_BYTES",
    "MAX_IMAGE_PIXELS",
    "JOBS_BACKEND",
    "SQS_QUEUE_URL",
    "WORKER_CONCURRENCY",
    "WORKER_MEMORY_BUDGET",
    "WORKER_SHUTDOWN_SECONDS",
    "JOB_LEASE_SECONDS",
    "SESSION_RECHECK_SECONDS",
    "MAX_QUERY_COST",
    "MAX_SUBSCRIPTIONS_PER_SOCKET",
    "MAX_SOCKETS_PER_ADDRESS",
    "TRUSTED_PROXY_HOPS",
    "REFLEX_REDIS_URL",
    "REFLEX_IGNORE_REDIS_CONFIG_ERROR",
  ]

  # Secrets: injected by ECS from Secrets Manager (secrets.tf), never in the task
  # definition itself.
  app_secret_names = [
    "SECRET_KEY",
    "DATABASE_URL",
    "CLOUDFRONT_PRIVATE_KEY",
    "AUTH0_CLIENT_SECRET",
    "REDIS_URL",        # carries the Redis AUTH token
    "REFLEX_REDIS_URL", # the same URL, for Reflex's state manager
  ]

  # Plain settings. An empty value is left out of the container's environment, which
  # the app treats exactly like an unset variable (its default).
  app_environment = {
    IMAGESHARE_ENV = "production"
    PORT           = tostring(var.container_port)
    PUBLIC_URL     = local.public_url

    STORAGE_BACKEND = "s3"
    # Not used with S3 storage; the image's writable data folder all the same.
    MEDIA_ROOT = "/app/data/media"
    S3_BUCKET  = aws_s3_bucket.media.id
    S3_REGION  = var.region
    # Empty on AWS: boto3 talks to the region's own S3 endpoint. Only for
    # S3-compatible servers (SeaweedFS, MinIO) elsewhere.
    S3_ENDPOINT_URL = ""

    # Media are served by the same CloudFront distribution as the site (cloudfront.tf).
    CDN_BASE_URL           = local.public_url
    CLOUDFRONT_KEY_PAIR_ID = aws_cloudfront_public_key.media.id

    AUTH0_DOMAIN    = var.auth0_domain
    AUTH0_CLIENT_ID = var.auth0_client_id
    AUTH0_AUDIENCE  = var.auth0_audience
    # Empty means https://AUTH0_DOMAIN/, right for Auth0 itself.
    AUTH0_ISSUER = var.auth0_issuer

    # ElastiCache refuses CONFIG SET; the parameter group (redis.tf) already sets the
    # notify-keyspace-events that Reflex would set.
    REFLEX_IGNORE_REDIS_CONFIG_ERROR = "1"

    MAX_UPLOAD_BYTES = tostring(var.max_upload_bytes)
    MAX_IMAGE_PIXELS = tostring(var.max_image_pixels)

    # Images are processed by the worker service (worker.tf): the web tasks only send
    # a job to the queue after storing the original. Production refuses any other
    # backend.
    JOBS_BACKEND      = "sqs"
    SQS_QUEUE_URL     = aws_sqs_queue.jobs.url
    JOB_LEASE_SECONDS = tostring(var.job_lease_seconds)
    # The web tasks process nothing, so these are left unset (empty) for them; the
    # worker's values are in local.worker_settings (worker.tf).
    WORKER_CONCURRENCY      = ""
    WORKER_MEMORY_BUDGET    = ""
    WORKER_SHUTDOWN_SECONDS = ""

    # Left to the app's defaults unless var.extra_environment says otherwise.
    SESSION_RECHECK_SECONDS      = ""
    MAX_QUERY_COST               = ""
    MAX_SUBSCRIPTIONS_PER_SOCKET = ""
    MAX_SOCKETS_PER_ADDRESS      = ""

    # CloudFront appends the viewer's address to X-Forwarded-For and the load balancer
    # CloudFront's: the client is two entries from the right (imageshare/addresses.py).
    TRUSTED_PROXY_HOPS = "2"
  }

  container_environment = [
    for name, value in merge(var.extra_environment, local.app_environment) : { name = name, value = value } if value != ""
  ]

  container_secrets = [
    for name in local.app_secret_names : { name = name, valueFrom = aws_secretsmanager_secret.app[name].arn }
  ]

  image = "${aws_ecr_repository.app.repository_url}:${var.image_tag}"

  settings_given = setunion(keys(local.app_environment), local.app_secret_names)
}

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_task_definition" "app" {
  family                   = "${local.name}-app"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_cpu
  memory                   = var.task_memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name      = "app"
      image     = local.image
      essential = true
      command   = ["serve"]
      portMappings = [
        { name = "http", containerPort = var.container_port, protocol = "tcp" },
      ]
      environment = local.container_environment
      secrets     = local.container_secrets
      # The app writes under /app (data/, Reflex's upload folder and the marker files
      # Reflex touches at start in .web/backend: see the Dockerfile).
      readonlyRootFilesystem = false
      # The image's own check (GET /healthz on PORT, liveness: the process answers); the
      # load balancer checks readiness (/readyz: database and bucket).
      healthCheck = {
        command     = ["CMD", "imageshare", "healthcheck"]
        interval    = 30
        timeout     = 10
        retries     = 3
        startPeriod = 60
      }
      # Time to finish uploads in flight when a task is replaced.
      stopTimeout = 60
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.app.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "app"
        }
      }
    },
  ])

  lifecycle {
    precondition {
      condition     = length(setsubtract(local.app_setting_names, local.settings_given)) == 0
      error_message = "Every setting of the contract must be given to the app: missing ${join(", ", setsubtract(local.app_setting_names, local.settings_given))}."
    }
    precondition {
      condition     = length(setintersection(keys(local.app_environment), local.app_secret_names)) == 0
      error_message = "A setting is given both as a plain value and as a secret."
    }
    precondition {
      condition     = length(setintersection(keys(var.extra_environment), local.app_setting_names)) == 0
      error_message = "extra_environment cannot set a variable of the settings contract: ${join(", ", setintersection(keys(var.extra_environment), local.app_setting_names))}."
    }
  }
}

# The same image and settings, running `migrate` (alembic upgrade head) once and
# exiting. Run it before a release that changes the schema: output migrate_command.
resource "aws_ecs_task_definition" "migrate" {
  family                   = "${local.name}-migrate"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([
    {
      name                   = "migrate"
      image                  = local.image
      essential              = true
      command                = ["migrate"]
      environment            = local.container_environment
      secrets                = local.container_secrets
      readonlyRootFilesystem = false
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          "awslogs-group"         = aws_cloudwatch_log_group.app.name
          "awslogs-region"        = var.region
          "awslogs-stream-prefix" = "migrate"
        }
      }
    },
  ])
}

resource "aws_ecs_service" "app" {
  name            = local.name
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app.arn
  desired_count   = var.desired_count
  launch_type     = "FARGATE"
  # checkov:skip=CKV_AWS_332:LATEST is the current Fargate platform version; pinning an older one gains nothing.
  platform_version = "LATEST"

  health_check_grace_period_seconds  = var.health_check_grace_period_seconds
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  availability_zone_rebalancing      = "ENABLED"
  enable_ecs_managed_tags            = true
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  # A release whose tasks never become healthy is rolled back to the last good one.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.app.arn
    container_name   = "app"
    container_port   = var.container_port
  }

  lifecycle {
    # Autoscaling owns the number of tasks once the service exists.
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener_rule.from_cloudfront, aws_iam_role_policy.execution]
}

# --- Autoscaling on CPU and on requests per task ------------------------------------

resource "aws_appautoscaling_target" "app" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.desired_count
  max_capacity       = max(var.max_count, var.desired_count)
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = "${local.name}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${local.name}-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.app.service_namespace
  resource_id        = aws_appautoscaling_target.app.resource_id
  scalable_dimension = aws_appautoscaling_target.app.scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling_requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.app.arn_suffix}"
    }
  }
}
