# The nlaudit image: the static binary and nothing else (docs/containers.md says which
# privileges each command needs). Build the binary first, then the image:
#   cargo xtask dist && docker build -t nlaudit .
FROM scratch
COPY target/dist/nlaudit /nlaudit
ENTRYPOINT ["/nlaudit"]
