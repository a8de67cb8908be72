/* model_buildtoken.h — build tokens: minted by skiff-dispatch for one launch of one deployment
 * (an ECS task), shown only to that task, stored only as their SHA-256 (buildtoken:{sha256} →
 * the deployment id, and the upload:{id} hash names the one live token). A build token speaks
 * the deploy protocol for its own deployment only, and only while the build's lease lives and
 * the deployment has not ended. */
#ifndef SKIFF_MODEL_BUILDTOKEN_H
#define SKIFF_MODEL_BUILDTOKEN_H

#include <stdbool.h>
#include "error.h"
#include "id.h"
#include "model_state.h"
#include "redis.h"
#include "validate.h"

#define BUILD_TOKEN_PREFIX "skiffbuild_"
#define BUILD_TOKEN_LEN (sizeof(BUILD_TOKEN_PREFIX) - 1 + 40)   /* 40 base32 characters */

/* What a build token names, as found by model_buildtoken_lookup. */
struct build_token {
	char deployment[ID_LEN + 1];
	char project[SLUG_MAX + 1];
	enum deployment_state state;
	bool lease_alive;           /* the build's lease lives (it was renewed by the lookup) */
	bool cancel_requested;      /* a user asked the build to stop */
};

/* A fresh secret into out: BUILD_TOKEN_PREFIX and base32 from getrandom. */
void model_buildtoken_secret_new(char out[BUILD_TOKEN_LEN + 1]);
/* 1 when s looks like a build token (prefix, length, alphabet). */
int model_buildtoken_secret_valid(const char *s);

/* Stores the SHA-256 of secret as the one build token of deployment id for ttl_s seconds at
 * most (a token minted before, e.g. for an earlier launch, stops working), and prepares the
 * deployment for the protocol's log calls. SKIFF_ENOTFOUND when the deployment does not exist. */
int model_buildtoken_mint(struct redis *r, const char *id, const char *secret, long ttl_s,
			  struct error *err);
/* The deployment secret is the build token of, into *out; renews the build's lease for
 * lease_ttl_s seconds when it is still alive and the deployment has not ended. SKIFF_ENOTFOUND
 * when secret is no live build token (never minted, replaced by a later launch, expired, or
 * its deployment deleted). */
int model_buildtoken_lookup(struct redis *r, const char *secret, long lease_ttl_s,
			    struct build_token *out, struct error *err);

#endif
