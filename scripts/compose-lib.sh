# Shell functions for the scripts that build docker-compose.yml's images under
# a private TALLY_TAG (e2e-compose.sh, compose-fresh.sh); source it.

# remove_build_leftovers TAG SINCE: removes what a build with TALLY_TAG=TAG and
# TALLY_BUILD_ID=TAG leaves besides its tagged images (docker-compose down
# --rmi all removes those; call this first, while tally-go:TAG exists):
#   - the containers of failed RUN steps (the legacy builder keeps them) made
#     from tally-go:TAG's descendants since SINCE (seconds since the epoch),
#     with the images they were made from;
#   - the build stages' last images (labelled org.tallyhq.build-id=TAG).
# docker rmi removes an image's untagged parents too, unless another image
# or container still uses them: the build cache other builds share stays.
remove_build_leftovers() {
	local tag=$1 since=$2 id image created project ids
	for id in $(docker ps -aq --filter "ancestor=tally-go:$tag" --filter status=exited --filter status=created 2>/dev/null); do
		read -r image created project < <(docker inspect -f '{{.Image}} {{.Created}} {{index .Config.Labels "com.docker.compose.project"}}' "$id") || continue
		# A service's container (the certs service's, say) is docker-compose down's.
		[[ -z $project ]] || continue
		(($(date -d "$created" +%s) >= since)) || continue
		docker rm "$id" >/dev/null 2>&1 && docker rmi "$image" >/dev/null 2>&1 || true
	done
	ids=$(docker images -q --filter "label=org.tallyhq.build-id=$tag")
	[[ -z $ids ]] || docker rmi $ids >/dev/null 2>&1 || true
}
