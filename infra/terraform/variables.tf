# Inputs. Every one has a description; those without a default must be given
# (see terraform.tfvars.example).

# --- General ------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (bucket, cluster, database, ...). Lower-case letters, digits and dashes."
  type        = string
  default     = "imageshare"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,18}[a-z0-9]$", var.name))
    error_message = "The name must be 3 to 20 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  description = "AWS region of everything except CloudFront (global) and its certificate (us-east-1)."
  type        = string
  default     = "eu-west-1"
}

variable "tags" {
  description = "Extra tags for every resource (Application and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

# --- Domain and certificates -------------------------------------------------

variable "domain_names" {
  description = "The site's host names, served by CloudFront. The first is canonical: PUBLIC_URL and CDN_BASE_URL are https://<first>."
  type        = list(string)

  validation {
    condition     = length(var.domain_names) >= 1 && alltrue([for d in var.domain_names : can(regex("^[a-z0-9.-]+\\.[a-z]{2,}$", d))])
    error_message = "Give at least one host name, such as images.example.com (no scheme, no path)."
  }
}

variable "cloudfront_certificate_arn" {
  description = "ACM certificate in us-east-1 (CloudFront only reads certificates there) covering every name in domain_names."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/", var.cloudfront_certificate_arn))
    error_message = "The CloudFront certificate must be an ACM certificate ARN in us-east-1."
  }
}

variable "alb_certificate_arn" {
  description = "ACM certificate in var.region for the load balancer's HTTPS listener. It must cover the site's names too: CloudFront forwards the viewer's Host header and checks the origin's certificate against it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/", var.alb_certificate_arn))
    error_message = "The load balancer certificate must be an ACM certificate ARN."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone of domain_names. When set, alias records point every name at CloudFront; when empty, create those DNS records yourself (output cloudfront_domain_name)."
  type        = string
  default     = ""
}

# --- Network -----------------------------------------------------------------

variable "vpc_cidr" {
  description = "Address range of the VPC; split into two public and two private /20 subnets."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "The VPC range must be a CIDR block of /18 or larger, such as 10.40.0.0/16."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway in each availability zone (survives the loss of a zone) instead of one shared NAT gateway (cheaper)."
  type        = bool
  default     = false
}

variable "flow_logs_retention_days" {
  description = "Days to keep the VPC flow logs (rejected traffic) in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_logs_retention_days)
    error_message = "CloudWatch Logs retention must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days."
  }
}

# --- Load balancer -----------------------------------------------------------

variable "alb_idle_timeout" {
  description = "Seconds the load balancer keeps an idle connection open. Long, because each open page holds a websocket (/_event) and GraphQL subscriptions do too."
  type        = number
  default     = 3600

  validation {
    condition     = var.alb_idle_timeout >= 60 && var.alb_idle_timeout <= 4000
    error_message = "The idle timeout must be between 60 and 4000 seconds."
  }
}

variable "alb_deletion_protection" {
  description = "Refuse to delete the load balancer (turn off before terraform destroy)."
  type        = bool
  default     = true
}

variable "access_logs_retention_days" {
  description = "Days to keep load balancer and S3 access logs in the logs bucket."
  type        = number
  default     = 365

  validation {
    condition     = var.access_logs_retention_days >= 1
    error_message = "Keep access logs for at least one day."
  }
}

# --- App (ECS) ---------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the app image in the ECR repository to run (tags are immutable: one tag per build, such as the git commit)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "The image tag must be a Docker tag: letters, digits, _, . and -, at most 128 characters."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture the app image is built for: X86_64 or ARM64 (Graviton, cheaper)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "The CPU architecture must be X86_64 or ARM64."
  }
}

variable "container_port" {
  description = "The one port the app serves inside the container (PORT): pages, /_event websocket, /graphql, /healthz, /readyz."
  type        = number
  default     = 3000

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "The container port must be between 1024 and 65535."
  }
}

variable "task_cpu" {
  description = "CPU units of one app task (1024 = one vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.task_cpu)
    error_message = "Fargate CPU must be 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "task_memory" {
  description = "Memory of one app task in MiB; must suit task_cpu (Fargate's table). The app tasks stream uploads to S3 but decode nothing (the worker tasks do)."
  type        = number
  default     = 2048

  validation {
    condition     = var.task_memory >= 512
    error_message = "Give a task at least 512 MiB."
  }
}

variable "desired_count" {
  description = "App tasks to run; also the autoscaling minimum. At least two, in different zones, so a deploy or a lost zone keeps the site up."
  type        = number
  default     = 2

  validation {
    condition     = var.desired_count >= 2
    error_message = "Run at least two app tasks."
  }
}

variable "max_count" {
  description = "Most app tasks autoscaling may run."
  type        = number
  default     = 8

  validation {
    condition     = var.max_count >= 2
    error_message = "The autoscaling maximum must be at least two tasks."
  }
}

variable "autoscaling_cpu_target" {
  description = "Average CPU utilisation (percent) of the app tasks that autoscaling aims for."
  type        = number
  default     = 60

  validation {
    condition     = var.autoscaling_cpu_target > 10 && var.autoscaling_cpu_target < 95
    error_message = "The CPU target must be between 10 and 95 percent."
  }
}

variable "autoscaling_requests_per_target" {
  description = "Load balancer requests per minute per task that autoscaling aims for."
  type        = number
  default     = 1000

  validation {
    condition     = var.autoscaling_requests_per_target >= 10
    error_message = "The request target must be at least 10 requests per task."
  }
}

variable "health_check_grace_period_seconds" {
  description = "Seconds a new task may fail the load balancer's /readyz check while it starts."
  type        = number
  default     = 120
}

variable "log_retention_days" {
  description = "Days to keep the app's logs (and the migrate task's) in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "CloudWatch Logs retention must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653 days."
  }
}

variable "ecr_keep_images" {
  description = "How many of the newest images the ECR repository keeps; older ones are expired (keep enough to roll back)."
  type        = number
  default     = 30

  validation {
    condition     = var.ecr_keep_images >= 1
    error_message = "Keep at least one image."
  }
}

variable "extra_environment" {
  description = "More plain environment variables for the app, worker and migrate containers (not secrets). They cannot replace a setting of the contract."
  type        = map(string)
  default     = {}
}

# --- Worker (ECS) and the jobs queue ------------------------------------------

variable "worker_cpu" {
  description = "CPU units of one worker task (1024 = one vCPU); the worker decodes images and encodes renditions."
  type        = number
  default     = 1024

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.worker_cpu)
    error_message = "Fargate CPU must be 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "worker_memory" {
  description = "Memory of one worker task in MiB; must suit worker_cpu (Fargate's table). WORKER_MEMORY_BUDGET is worker_memory_budget_percent of it."
  type        = number
  default     = 2048

  validation {
    condition     = var.worker_memory >= 1024
    error_message = "Give a worker task at least 1024 MiB: decoding a large image needs it."
  }
}

variable "worker_concurrency" {
  description = "WORKER_CONCURRENCY: jobs one worker task processes at once. About two per vCPU keeps the CPU busy while a job waits for S3 or the database; WORKER_MEMORY_BUDGET still bounds what they hold together."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_concurrency >= 1 && var.worker_concurrency <= 64
    error_message = "WORKER_CONCURRENCY must be between 1 and 64."
  }
}

variable "worker_memory_budget_percent" {
  description = "WORKER_MEMORY_BUDGET as a percentage of worker_memory: the decode memory the worker process may hold (50: 1 GiB of a 2 GiB task). The rest is for Python, the libraries, buffers and the encoded renditions."
  type        = number
  default     = 50

  validation {
    condition     = var.worker_memory_budget_percent >= 10 && var.worker_memory_budget_percent <= 80
    error_message = "The memory budget must be between 10 and 80 percent of the task's memory."
  }
}

variable "worker_stop_timeout_seconds" {
  description = "Seconds ECS gives a stopping worker task between SIGTERM and SIGKILL (stopTimeout); jobs under way may finish for all but the last 10 (WORKER_SHUTDOWN_SECONDS), the rest are handed back to the queue."
  type        = number
  default     = 60

  validation {
    condition     = var.worker_stop_timeout_seconds >= 15 && var.worker_stop_timeout_seconds <= 120
    error_message = "The stop timeout must be between 15 and 120 seconds (Fargate's most)."
  }
}

variable "worker_min_count" {
  description = "Fewest worker tasks (the autoscaling minimum). At least one: a queue with no worker scales out only after its jobs have waited (see docs/deploy.md, Scaling the workers)."
  type        = number
  default     = 1

  validation {
    condition     = var.worker_min_count >= 1
    error_message = "Run at least one worker task."
  }
}

variable "worker_max_count" {
  description = "Most worker tasks autoscaling may run. Each holds database connections: keep worker_max_count x WORKER_CONCURRENCY within what the database allows beside the app tasks."
  type        = number
  default     = 8

  validation {
    condition     = var.worker_max_count >= 1
    error_message = "The autoscaling maximum must be at least one worker task."
  }
}

variable "worker_backlog_per_task_target" {
  description = "Jobs waiting in the queue per running worker task that autoscaling aims for: the longest acceptable wait (seconds) times the images per second one worker task processes (docs/deploy.md, Scaling the workers)."
  type        = number
  default     = 20

  validation {
    condition     = var.worker_backlog_per_task_target >= 1
    error_message = "The backlog target must be at least one job per task."
  }
}

variable "job_lease_seconds" {
  description = "JOB_LEASE_SECONDS, and the jobs queue's visibility timeout: how long a received job stays invisible before it is handed out again (the worker extends it while an image is still being processed)."
  type        = number
  default     = 60

  validation {
    condition     = var.job_lease_seconds >= 10 && var.job_lease_seconds <= 43200
    error_message = "The lease must be between 10 seconds and 12 hours (SQS's limit)."
  }
}

variable "job_queue_age_alarm_seconds" {
  description = "Alarm when the oldest waiting job is older than this many seconds: the workers are down, failing, or at worker_max_count and behind."
  type        = number
  default     = 600

  validation {
    condition     = var.job_queue_age_alarm_seconds >= 60
    error_message = "The age alarm needs at least 60 seconds (SQS reports once a minute)."
  }
}

# --- App settings (the settings contract, README "Settings") ------------------

variable "auth0_domain" {
  description = "AUTH0_DOMAIN: the Auth0 tenant's host name (or its custom domain), e.g. your-tenant.eu.auth0.com."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+$", var.auth0_domain))
    error_message = "AUTH0_DOMAIN is a host name such as your-tenant.eu.auth0.com, not a URL."
  }
}

variable "auth0_client_id" {
  description = "AUTH0_CLIENT_ID of the Regular Web Application."
  type        = string

  validation {
    condition     = length(var.auth0_client_id) > 0
    error_message = "AUTH0_CLIENT_ID is required."
  }
}

variable "auth0_client_secret" {
  description = "AUTH0_CLIENT_SECRET of the Regular Web Application; stored in Secrets Manager. Pass it as TF_VAR_auth0_client_secret rather than writing it in a file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.auth0_client_secret) > 0
    error_message = "AUTH0_CLIENT_SECRET is required."
  }
}

variable "auth0_audience" {
  description = "AUTH0_AUDIENCE: the identifier of the Auth0 API, e.g. https://api.images.example.com."
  type        = string

  validation {
    condition     = length(var.auth0_audience) > 0
    error_message = "AUTH0_AUDIENCE is required in production."
  }
}

variable "auth0_issuer" {
  description = "AUTH0_ISSUER override; empty (the default) means https://AUTH0_DOMAIN/, which is right for Auth0."
  type        = string
  default     = ""
}

variable "max_upload_bytes" {
  description = "MAX_UPLOAD_BYTES: the largest accepted upload."
  type        = number
  default     = 26214400

  validation {
    condition     = var.max_upload_bytes >= 1
    error_message = "MAX_UPLOAD_BYTES must be at least 1."
  }
}

variable "max_image_pixels" {
  description = "MAX_IMAGE_PIXELS: the largest accepted width x height."
  type        = number
  default     = 60000000

  validation {
    condition     = var.max_image_pixels >= 1
    error_message = "MAX_IMAGE_PIXELS must be at least 1."
  }
}

# --- Database (RDS Postgres) ---------------------------------------------------

variable "db_instance_class" {
  description = "RDS instance class of the Postgres database."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "RDS gp3 storage starts at 20 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling in GiB (0 turns storage autoscaling off)."
  type        = number
  default     = 200
}

variable "db_name" {
  description = "Name of the app's database."
  type        = string
  default     = "imageshare"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "The database name must be lower-case letters, digits and underscores, starting with a letter."
  }
}

variable "db_username" {
  description = "The database's master user, which the app connects as."
  type        = string
  default     = "imageshare"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,15}$", var.db_username)) && !contains(["admin", "postgres", "rdsadmin"], var.db_username)
    error_message = "The user name must be at most 16 lower-case letters, digits and underscores, and not a reserved name."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery) RDS keeps."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "Backup retention must be between 1 and 35 days."
  }
}

variable "db_multi_az" {
  description = "A standby database in the second zone with automatic failover."
  type        = bool
  default     = true
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (turn off before terraform destroy)."
  type        = bool
  default     = true
}

variable "db_performance_insights" {
  description = "Turn on Performance Insights (7 days are free)."
  type        = bool
  default     = true
}

variable "db_iam_authentication" {
  description = "Allow IAM database authentication as well as passwords (the app itself uses the password in DATABASE_URL)."
  type        = bool
  default     = true
}

variable "db_monitoring_interval" {
  description = "Seconds between Enhanced Monitoring samples of the database host (0 turns it off)."
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.db_monitoring_interval)
    error_message = "The monitoring interval must be 0, 1, 5, 10, 15, 30 or 60 seconds."
  }
}

# --- Redis (ElastiCache) -------------------------------------------------------

variable "redis_node_type" {
  description = "ElastiCache node type of Redis (Reflex's state and the app's events)."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_engine_version" {
  description = "Redis engine version (the parameter group's family follows its major version)."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^7\\.[0-9]+$", var.redis_engine_version))
    error_message = "Use Redis 7.x (the parameter group is of the redis7 family)."
  }
}

variable "redis_multi_az" {
  description = "Keep a Redis replica in the other zone with automatic failover (needs redis_num_cache_clusters >= 2)."
  type        = bool
  default     = true
}

variable "redis_num_cache_clusters" {
  description = "Redis nodes: one primary plus replicas."
  type        = number
  default     = 2

  validation {
    condition     = var.redis_num_cache_clusters >= 1 && var.redis_num_cache_clusters <= 6
    error_message = "Redis needs 1 to 6 nodes."
  }
}

# --- Media (S3, CloudFront) ----------------------------------------------------

variable "media_noncurrent_version_days" {
  description = "Days S3 keeps an overwritten or deleted media object's old version (versioning is on to recover from mistakes)."
  type        = number
  default     = 30

  validation {
    condition     = var.media_noncurrent_version_days >= 1
    error_message = "Keep old versions for at least one day."
  }
}

variable "media_abort_multipart_days" {
  description = "Days after which S3 removes the parts of an upload that never completed."
  type        = number
  default     = 7

  validation {
    condition     = var.media_abort_multipart_days >= 1
    error_message = "Give incomplete uploads at least one day."
  }
}

variable "cloudfront_price_class" {
  description = "CloudFront price class: which edge locations serve the site."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "The price class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "cloudfront_web_acl_arn" {
  description = "ARN of a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) to attach to the distribution; null for none. Tune it for image uploads: AWS's common rule set blocks request bodies over 8 KB."
  type        = string
  default     = null
}

# --- Monitoring -----------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarms topic (confirm the e-mail AWS sends); empty for none."
  type        = string
  default     = ""
}
