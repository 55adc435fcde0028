// `storefront recommendations`: the mock recommendations service (see recommendations_mock.cpp).
#pragma once

namespace storefront {

int run_recommendations_mock(int argc, char** argv, int first);

}  // namespace storefront
