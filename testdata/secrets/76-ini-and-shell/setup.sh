#!/bin/sh
export LOG_LEVEL=info
export GITHUB_TOKEN="sdleak99x9QZ"
