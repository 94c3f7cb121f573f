package dev.sluice.store;

class InProcessStoreTest extends StoreContract<InProcessStore> {
    private final InProcessStore store = new InProcessStore();

    @Override
    protected InProcessStore store() {
        return store;
    }
}
