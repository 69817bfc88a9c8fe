output "site_url" {
  description = "The site (PUBLIC_URL; also CDN_BASE_URL)."
  value       = local.public_url
}

output "cloudfront_domain_name" {
  description = "The distribution's own host name: point every name in domain_names at it (CNAME, or an alias record; done for you with route53_zone_id)."
  value       = aws_cloudfront_distribution.main.domain_name
}

output "cloudfront_distribution_id" {
  description = "The distribution's id (for cache invalidations)."
  value       = aws_cloudfront_distribution.main.id
}

output "ecr_repository_url" {
  description = "Push the app image here: docker push <url>:<tag>, then set image_tag and apply."
  value       = aws_ecr_repository.app.repository_url
}

output "log_group" {
  description = "CloudWatch log group of the app and migrate tasks (aws logs tail <name> --follow)."
  value       = aws_cloudwatch_log_group.app.name
}

output "worker_log_group" {
  description = "CloudWatch log group of the worker tasks (aws logs tail <name> --follow)."
  value       = aws_cloudwatch_log_group.worker.name
}

output "ecs_cluster" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.main.name
}

output "ecs_service" {
  description = "ECS service name of the app."
  value       = aws_ecs_service.app.name
}

output "worker_service" {
  description = "ECS service name of the workers."
  value       = aws_ecs_service.worker.name
}

output "jobs_queue_url" {
  description = "URL of the processing jobs queue (SQS_QUEUE_URL)."
  value       = aws_sqs_queue.jobs.url
}

output "dead_letter_queue_url" {
  description = "URL of the jobs' dead-letter queue: jobs received three times without finishing."
  value       = aws_sqs_queue.jobs_dead_letter.url
}

output "dead_letter_redrive_command" {
  description = "Moves every message of the dead-letter queue back to the jobs queue (aws sqs start-message-move-task). Only useful for jobs whose images are still processing: see docs/deploy.md."
  value       = "aws sqs start-message-move-task --region ${var.region} --source-arn ${aws_sqs_queue.jobs_dead_letter.arn} --destination-arn ${aws_sqs_queue.jobs.arn}"
}

output "migrate_command" {
  description = "Runs `migrate` (alembic upgrade head) once in the private subnets with the app's settings; prints the task ARN. Wait with `aws ecs wait tasks-stopped --cluster <cluster> --tasks <arn>` and check its exit code with describe-tasks."
  value = join(" ", [
    "aws ecs run-task",
    "--region ${var.region}",
    "--cluster ${aws_ecs_cluster.main.name}",
    "--launch-type FARGATE",
    "--task-definition ${aws_ecs_task_definition.migrate.family}:${aws_ecs_task_definition.migrate.revision}",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", aws_subnet.private[*].id)}],securityGroups=[${aws_security_group.tasks.id}],assignPublicIp=DISABLED}'",
    "--started-by migrate",
    "--query 'tasks[0].taskArn' --output text",
  ])
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms publish to."
  value       = aws_sns_topic.alarms.arn
}
