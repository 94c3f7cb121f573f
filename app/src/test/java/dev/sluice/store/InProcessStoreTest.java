package dev.sluice.store;

class InProcessStoreTest extends StoreContract {
    private final InProcessStore store = new InProcessStore();

    @Override
    protected RateLimitStore store() {
        return store;
    }
}
