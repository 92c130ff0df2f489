# CIS Docker Benchmark 1.6.0, the audit controls 1.1.3-1.1.18 (nlaudit docker check).
# Each `docker ID` requirement is the control of that id in nlaudit's CIS Docker table: the
# file in use is located as `nlaudit docker check` locates it (processes, systemd units,
# daemon.json, PATH, the benchmark's path) and needs a rule that audits writes and
# attribute changes on exactly that path; ensure adds `-w PATH -p rwxa -k docker`.
profile cis-docker
title CIS Docker Benchmark 1.6.0 audit controls (1.1.3-1.1.18)
source CIS Docker Benchmark v1.6.0 (docker-bench-security v1.6.0)
docker-numbering cis

control 1.1.3
title Ensure auditing is configured for the Docker daemon
docker 1.1.3

control 1.1.4
title Ensure auditing is configured for Docker files and directories - /run/containerd
docker 1.1.4

control 1.1.5
title Ensure auditing is configured for Docker files and directories - /var/lib/docker
docker 1.1.5

control 1.1.6
title Ensure auditing is configured for Docker files and directories - /etc/docker
docker 1.1.6

control 1.1.7
title Ensure auditing is configured for Docker files and directories - docker.service
docker 1.1.7

control 1.1.8
title Ensure auditing is configured for Docker files and directories - containerd.sock
docker 1.1.8

control 1.1.9
title Ensure auditing is configured for Docker files and directories - docker.socket
docker 1.1.9

control 1.1.10
title Ensure auditing is configured for Docker files and directories - /etc/default/docker
docker 1.1.10

control 1.1.11
title Ensure auditing is configured for Docker files and directories - /etc/docker/daemon.json
docker 1.1.11

control 1.1.12
title Ensure auditing is configured for Docker files and directories - /etc/containerd/config.toml
docker 1.1.12

control 1.1.13
title Ensure auditing is configured for Docker files and directories - /etc/sysconfig/docker
docker 1.1.13

control 1.1.14
title Ensure auditing is configured for Docker files and directories - /usr/bin/containerd
docker 1.1.14

control 1.1.15
title Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim
docker 1.1.15

control 1.1.16
title Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v1
docker 1.1.16

control 1.1.17
title Ensure auditing is configured for Docker files and directories - /usr/bin/containerd-shim-runc-v2
docker 1.1.17

control 1.1.18
title Ensure auditing is configured for Docker files and directories - /usr/bin/runc
docker 1.1.18
