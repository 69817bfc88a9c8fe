# Application load balancer in the public subnets. Only CloudFront reaches it: the
# security groups admit CloudFront's origin-facing addresses, and the HTTPS listener
# forwards only requests carrying the secret header that the distribution adds
# (cloudfront.tf), so another CloudFront distribution cannot use it either.

resource "random_password" "origin_verify" {
  length  = 48
  special = false
}

resource "aws_lb" "main" {
  # checkov:skip=CKV2_AWS_28:Only CloudFront reaches the load balancer (prefix list and secret header), so a web ACL belongs on the distribution: var.cloudfront_web_acl_arn.
  name               = local.name
  load_balancer_type = "application"
  internal           = false
  subnets            = aws_subnet.public[*].id
  security_groups    = [aws_security_group.alb.id, aws_security_group.alb_http.id]

  # Websockets (/_event, GraphQL subscriptions) stay open while a page is open.
  idle_timeout = var.alb_idle_timeout

  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection

  access_logs {
    bucket  = aws_s3_bucket.logs.id
    prefix  = "alb"
    enabled = true
  }

  # The logs bucket must accept the load balancer's writes before logging is turned on.
  depends_on = [aws_s3_bucket_policy.logs]

  tags = { Name = local.name }
}

resource "aws_lb_target_group" "app" {
  # checkov:skip=CKV_AWS_378:TLS ends at the load balancer; from there to the tasks is plain HTTP inside the VPC's private subnets, where only the load balancer's security group may connect.
  name        = local.name
  port        = var.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id

  # Open websockets get this long to finish when a task is replaced.
  deregistration_delay = 60

  # No stickiness: Reflex keeps each page's state in Redis, so any task can serve any
  # event of any page.
  stickiness {
    type    = "lb_cookie"
    enabled = false
  }

  # Readiness (the database and the bucket answer), not liveness: the load balancer
  # routes around a task that cannot serve. The container's own check is /healthz.
  health_check {
    path                = "/readyz"
    matcher             = "200"
    protocol            = "HTTP"
    port                = "traffic-port"
    interval            = 15
    timeout             = 10
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = { Name = local.name }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.alb_certificate_arn

  # Anything that did not come through our distribution.
  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Forbidden"
      status_code  = "403"
    }
  }
}

resource "aws_lb_listener_rule" "from_cloudfront" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 1

  condition {
    http_header {
      http_header_name = local.origin_verify_header
      values           = [random_password.origin_verify.result]
    }
  }

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

locals {
  origin_verify_header = "X-Origin-Verify"
}
