// `storefront worker`: the jobs worker running storefront's background jobs.
#pragma once

namespace storefront {

int run_worker(int argc, char** argv, int first);

}  // namespace storefront
