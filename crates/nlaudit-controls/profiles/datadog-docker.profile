# Datadog's cis-docker compliance policies (CIS Docker 1.2.0 numbering, 1.2.3-1.2.12):
# the same controls as cis-docker, in Datadog's numbering (its ten audit controls).
profile datadog-docker
title Datadog cis-docker audit controls (CIS Docker 1.2.0 numbering, 1.2.3-1.2.12)
source DataDog/security-agent-policies compliance/containers/cis-docker-1.2.0.yaml
docker-numbering datadog

control 1.2.3
title Ensure auditing is configured for the Docker daemon
docker 1.2.3

control 1.2.4
title Ensure auditing is configured for Docker files and directories - /var/lib/docker
docker 1.2.4

control 1.2.5
title Ensure auditing is configured for Docker files and directories - /etc/docker
docker 1.2.5

control 1.2.6
title Ensure auditing is configured for Docker files and directories - docker.service
docker 1.2.6

control 1.2.7
title Ensure auditing is configured for Docker files and directories - docker.socket
docker 1.2.7

control 1.2.8
title Ensure auditing is configured for Docker files and directories - /etc/default/docker
docker 1.2.8

control 1.2.10
title Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json
docker 1.2.10

control 1.2.9
title Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker
docker 1.2.9

control 1.2.11
title Ensure auditing is configured for Docker files and directories - /usr/bin/containerd
docker 1.2.11

control 1.2.12
title Ensure auditing is configured for Docker files and directories - /usr/bin/runc
docker 1.2.12
