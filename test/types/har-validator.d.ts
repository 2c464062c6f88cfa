declare module 'har-validator';
