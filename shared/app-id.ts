// One application id for electron-builder's appId and app.setAppUserModelId (Windows toasts and
// taskbar grouping break when they differ; a test checks electron-builder.yml against this).
export const APP_ID = 'org.callpop.desktop';
export const PRODUCT_NAME = 'Callpop';
